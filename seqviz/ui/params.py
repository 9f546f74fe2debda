"""Widgets with stable keys whose values live in the URL's query parameters.

On a session's first run each widget is seeded from ``st.query_params`` (so a
bookmarked demo reopens as it was); every run writes the value back (and drops it
when it equals the default, keeping links short). A value that cannot be used as it
is (not a number, out of range, off the slider's steps, not a whole number for a
whole-number widget) is clamped, moved or ignored, and the page says so in a visible
notice that names the value used instead: never a traceback.

Anything a user typed (a URL value, a table cell) reaches the page's markdown only
through ``literal`` or ``plain``, so a crafted link cannot put headings, links or
remote images into the app's own notices.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

_NOTICES = "_seqviz_url_notices"
LITERAL_LIMIT = 80  # characters of a user's value shown in a notice
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~$:&=^@])")


class BadParam(ValueError):
    """A query parameter that cannot be used at all (the message never repeats the value)."""


def _visible(text: str) -> str:
    """Line breaks, tabs and other invisible characters written as escapes (\\n, \\t, \\u2028)."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def literal(text: str, limit: int = LITERAL_LIMIT) -> str:
    """Markdown that shows `text` exactly as typed, as inline code.

    Nothing forms inside a code span (no heading, link, image, emphasis, emoji or
    formula); line breaks and other invisible characters are written as escapes so the
    span cannot be split; the fence is longer than any run of backticks inside; text
    past `limit` characters is cut, and the cut is said.
    """
    shown = _visible(str(text))
    if shown == "":
        return "(empty)"
    cut = ""
    if len(shown) > limit:
        shown, cut = shown[:limit], f" (the first {limit} of {len(shown):,} characters)"
    if shown.strip(" ") == "":
        return f"({len(shown)} spaces){cut}"
    fence = "`" * (max((len(run) for run in re.findall("`+", shown)), default=0) + 1)
    return f"{fence} {shown} {fence}{cut}"


def plain(text: str) -> str:
    """Markdown that renders `text` as the same plain words: every character markdown
    could read as syntax is backslash-escaped and line breaks are written as escapes.
    For messages that quote what a user typed (a table cell), shown in st.error/warning."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", _visible(str(text)))


def _parse_number(raw: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise BadParam("is not a number") from None
    if not math.isfinite(value):
        raise BadParam("is not a finite number")
    return value


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _on_grid(value: float, low: float, high: float, step: float) -> float:
    """The nearest of low, low + step, ... (halves round up) that is not above high."""
    steps = math.floor((value - low) / step + 0.5 + 1e-9)
    steps = min(steps, math.floor((high - low) / step + 1e-9))
    return round(low + max(0, steps) * step, 10)


def _note(key: str, text: str, value: Any) -> None:
    st.session_state.setdefault(_NOTICES, {})[key] = (text, value)


def _seed(key: str, default: Any, parse: Callable[[str], tuple[Any, str | None]]) -> None:
    """Put the URL's value (or the default) into session state before the widget exists."""
    if key in st.session_state:
        return
    value = default
    raw = st.query_params.get(key)
    if raw is not None:
        try:
            value, note = parse(raw)
        except BadParam as error:
            note = f"ignored: it {error}; using the default {plain(repr(default))}"
        if note:
            _note(key, f"URL parameter {literal(f'{key}={raw}')} {note}.", value)
    st.session_state[key] = value


def _sync(key: str, value: Any, default: Any, container: Any,
          text: Callable[[Any], str] = str) -> Any:
    """Write the widget's value to the URL (dropped when it is the default), and show
    the notice about its URL parameter for as long as the value taken from it stays."""
    notices = st.session_state.get(_NOTICES, {})
    if key in notices:
        message, seeded = notices[key]
        if value == seeded:
            container.warning(message, icon=":material/link_off:")
        else:
            del notices[key]
    try:
        if value == default:
            if key in st.query_params:
                del st.query_params[key]
        else:
            st.query_params[key] = text(value)
    except Exception:  # noqa: BLE001 - the URL is a convenience, never a failure
        pass
    return value


def _clamp(value: float, low: float, high: float) -> tuple[float, str | None]:
    if value < low:
        return low, f"is below the smallest allowed value; clamped to {low}"
    if value > high:
        return high, f"is above the largest allowed value; clamped to {high}"
    return value, None


def slider(label: str, low: float, high: float, default: float, *, key: str,
           step: float | None = None, container: Any = st, **kwargs: Any) -> Any:
    """A numeric slider bound to the URL parameter `key`.

    The range may depend on other widgets (a model's depth, a video's length): a
    remembered value outside the current range is pulled inside it, and so is the default.
    A URL value off the slider's steps (low, low + step, ...; Streamlit's default step is
    1 for whole numbers and 0.01 otherwise) moves to the nearest step, with a notice.
    """
    default = min(high, max(low, default))
    integer = all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high, default))
    grid = step if step else (1 if integer else 0.01)

    def parse(raw: str) -> tuple[Any, str | None]:
        number = _parse_number(raw)
        clamped, note = _clamp(number, low, high)
        value = _on_grid(clamped, low, high, grid)
        value = int(round(value)) if integer else value
        if note is not None:
            note = note.rsplit(" ", 1)[0] + f" {value}"
        elif not _same(value, number):
            note = (f"is not a whole number; using {value}" if integer and grid == 1 else
                    f"is not on the slider's steps ({low}, {_on_grid(low + grid, low, high, grid)}, …); "
                    f"using {value}")
        return value, note

    _seed(key, default, parse)
    # Re-assigned every run: when the range changes Streamlit would otherwise reset the
    # widget to its minimum instead of keeping the value the student chose.
    st.session_state[key] = min(high, max(low, st.session_state[key]))
    value = container.slider(label, low, high, step=step, key=key, **kwargs)
    return _sync(key, value, default, container)


def number_input(label: str, low: int, high: int, default: int, *, key: str,
                 container: Any = st, **kwargs: Any) -> int:
    """An integer box bound to the URL parameter `key`."""
    def parse(raw: str) -> tuple[int, str | None]:
        number = _parse_number(raw)
        value = math.floor(number + 0.5)
        clamped, note = _clamp(value, low, high)
        if note is None and value != number:
            note = f"is not a whole number; using {value}"
        return int(clamped), note

    _seed(key, default, parse)
    value = container.number_input(label, min_value=low, max_value=high, step=1, key=key, **kwargs)
    return _sync(key, value, default, container)


def log_select_slider(label: str, options: Sequence[int | float], default: int | float, *,
                      key: str, container: Any = st, **kwargs: Any) -> Any:
    """A slider over log-spaced numeric options; a URL value snaps to the nearest one."""
    options = list(options)

    def parse(raw: str) -> tuple[Any, str | None]:
        value = _parse_number(raw)
        low, high = options[0], options[-1]
        if value < low or value > high:
            clamped = low if value < low else high
            return clamped, f"is outside {low:,}…{high:,}; clamped to {clamped:,}"
        nearest = min(options, key=lambda o: abs(math.log(o) - math.log(value)))
        note = None if nearest == value else f"is not on the slider; moved to the nearest value {nearest:,}"
        return nearest, note

    _seed(key, default, parse)
    value = container.select_slider(label, options=options, key=key,
                                    format_func=lambda v: f"{v:,}", **kwargs)
    return _sync(key, value, default, container)


def choice(label: str, options: Sequence[str], default: str, *, key: str, container: Any = st,
           widget: str = "radio", refuse: Callable[[str], str | None] = lambda _: None,
           **kwargs: Any) -> str:
    """A radio / selectbox / segmented control over strings, bound to the URL.

    `refuse(option)` may return a reason why an option cannot be taken from the URL now.
    """
    options = list(options)

    def parse(raw: str) -> tuple[str, str | None]:
        matches = [o for o in options if o.lower() == raw.strip().lower()]
        if not matches:
            raise BadParam(f"is not one of {', '.join(options)}")
        reason = refuse(matches[0])
        if reason:
            raise BadParam(f"is not available ({reason})")
        return matches[0], None

    _seed(key, default, parse)
    value = getattr(container, widget)(label, options, key=key, **kwargs)
    return _sync(key, value, default, container)


def toggle(label: str, default: bool, *, key: str, container: Any = st, **kwargs: Any) -> bool:
    """An on/off toggle bound to the URL as 1/0."""
    def parse(raw: str) -> tuple[bool, str | None]:
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True, None
        if lowered in {"0", "false", "no", "off"}:
            return False, None
        raise BadParam("is not on/off (use 1 or 0)")

    _seed(key, default, parse)
    value = container.toggle(label, key=key, **kwargs)
    return _sync(key, value, default, container, text=lambda v: "1" if v else "0")


def text(label: str, default: str, *, key: str, max_chars: int, container: Any = st, **kwargs: Any) -> str:
    """A one-line text box bound to the URL; a URL value longer than `max_chars` is cut, with a
    notice. What it holds is whatever was typed: the page parses it and says what it cannot use."""
    def parse(raw: str) -> tuple[str, str | None]:
        if len(raw) > max_chars:
            return raw[:max_chars], f"is longer than {max_chars} characters; cut to the first {max_chars}"
        return raw, None

    _seed(key, default, parse)
    value = container.text_input(label, key=key, max_chars=max_chars, **kwargs)
    return _sync(key, value, default, container)
