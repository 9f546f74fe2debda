"""Named presets: a lecturer's ready-made demos of a page, as data, and the picker that applies them.

A preset is a name, a sentence saying what it shows, and the values it gives to some of the page's
widget keys (the keys of seqviz.ui.params, which are also their URL parameters). The picker sits at
the top of a page, before the page's other widgets; picking a preset writes its values into session
state in the picker's on_change callback, so the widgets drawn later in the run take them, and the
keys it does not name keep their values. The picker is bound to the URL parameter ``preset``: when a
page is entered with ``?preset=<name>`` (a bookmark, or a tour link from Home), the preset is applied
on that first run, and widget values written explicitly in the same URL win over the preset's. The
picker shows a preset only while the widgets still hold all its values, so a link never promises a
preset that the page no longer shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from seqviz.ui import params

URL_KEY = "preset"


@dataclass(frozen=True)
class Preset:
    """A named demo: `values` maps widget keys to the values the preset gives them."""

    name: str
    description: str
    values: tuple[tuple[str, Any], ...]

    def __post_init__(self) -> None:
        values = self.values.items() if isinstance(self.values, Mapping) else self.values
        pairs = tuple((str(key), value) for key, value in values)
        if len({key for key, _ in pairs}) != len(pairs):
            raise ValueError(f"preset {self.name!r} names a widget key twice")
        object.__setattr__(self, "values", pairs)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values)


def page_path(page: str | Path) -> str:
    """'pages/<file>.py' for a page's __file__ or path, the key of the registry."""
    return f"pages/{Path(page).name}"


def registry() -> Mapping[str, tuple[Preset, ...]]:
    from seqviz.ui.preset_data import PRESETS  # the data imports nothing of streamlit's state
    return PRESETS


def for_page(page: str | Path) -> tuple[Preset, ...]:
    return registry().get(page_path(page), ())


def find(page: str | Path, name: str) -> Preset | None:
    """The page's preset called `name` (case and surrounding spaces ignored), else None."""
    wanted = str(name).strip().lower()
    return next((p for p in for_page(page) if p.name.lower() == wanted), None)


def widget_key(page: str | Path) -> str:
    """The picker's session-state key: one per page, so pages never share a picked name."""
    return f"{URL_KEY}_{Path(page).stem}"


def apply(preset: Preset, skip: Iterable[str] = ()) -> None:
    """Give the preset's keys its values (before their widgets are drawn); others stay as they are."""
    skipped = set(skip)
    for key, value in preset.values:
        if key not in skipped:
            st.session_state[key] = value


def _holds(preset: Preset) -> bool:
    """Whether every key of the preset that the page holds still has the preset's value."""
    return all(st.session_state[key] == value for key, value in preset.values if key in st.session_state)


def _picked(page: str, key: str) -> None:
    preset = find(page, st.session_state.get(key) or "")
    if preset is not None:
        apply(preset)


def _notice_key(page: str) -> str:
    return f"{URL_KEY}@{page}"


def picker(page: str | Path, container: Any = st) -> Preset | None:
    """The preset picker of a page, drawn before its other widgets; returns the preset it shows."""
    path = page_path(page)
    choices = for_page(path)
    if not choices:
        return None
    key = widget_key(path)
    notices = st.session_state.setdefault(params._NOTICES, {})
    if key not in st.session_state:  # the page's first run in this session, or since another page
        notices.pop(_notice_key(path), None)
        raw = st.query_params.get(URL_KEY)
        chosen = None if raw is None else find(path, raw)
        if chosen is not None:
            apply(chosen, skip=[k for k in st.query_params if k != URL_KEY])  # explicit URL values win
        elif raw is not None:
            notices[_notice_key(path)] = (
                f"URL parameter {params.literal(f'{URL_KEY}={raw}')} ignored: it is not a preset of this "
                f"page ({', '.join(p.name for p in choices)}); nothing was changed.", None)
        st.session_state[key] = chosen.name if chosen else None
    elif (held := find(path, st.session_state[key] or "")) is None or not _holds(held):
        st.session_state[key] = None  # a widget moved away from the preset: the picker no longer claims it
    name = container.selectbox(
        "Preset", [p.name for p in choices], key=key, index=None, placeholder="Choose a ready-made demo…",
        on_change=_picked, args=(path, key),
        help="Sets the widgets below to a demo; what you change afterwards stays yours.")
    shown = find(path, name) if name else None
    if shown is not None:
        container.caption(f"**{shown.name}**: {shown.description}")
        notices.pop(_notice_key(path), None)
    elif _notice_key(path) in notices:
        container.warning(notices[_notice_key(path)][0], icon=":material/link_off:")
    try:
        if shown is None:
            if URL_KEY in st.query_params:
                del st.query_params[URL_KEY]
        else:
            st.query_params[URL_KEY] = shown.name
    except Exception:  # noqa: BLE001 - the URL is a convenience, never a failure
        pass
    return shown
