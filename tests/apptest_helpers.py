"""Running a page of the app under Streamlit's AppTest and moving its widgets."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from seqviz.plots.common import plotted_array
from seqviz.ui import registry
from tests.conftest import ROOT

TIMEOUT = 120

_original_init = PagesManager.__init__


def _navigation_app_init(self: PagesManager, *args: Any, **kwargs: Any) -> None:
    """AppTest resets PagesManager.uses_pages_directory before every run, so a `pages/`
    folder beside app.py makes it replay the old pages-folder mode and skip app.py (and
    the sidebar) on reruns. app.py always calls st.navigation, which turns that mode off
    in a real server after its first run; do the same here."""
    _original_init(self, *args, **kwargs)
    PagesManager.uses_pages_directory = False


PagesManager.__init__ = _navigation_app_init


def open_page(page_path: str | None = None, query: dict[str, str] | None = None) -> AppTest:
    """Run app.py (router and sidebar included), then switch to `page_path`."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if query:
        at.query_params.update(query)
    at.run()
    at.switch_page(page_path or registry.HOME.path).run()
    return at


def assert_clean(at: AppTest) -> None:
    """No exception element and no error alert was drawn."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def open_tab(at: AppTest, key: str, tab: str) -> AppTest:
    """Select `tab` of the tabs bound to session-state key `key`, rerun, and check the page is clean."""
    at.session_state[key] = tab
    at.run()
    assert_clean(at)
    return at


def _number(option: str) -> Any:
    text = option.replace(",", "").strip()
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return option


def widget_ends(widget: Any) -> list[Any]:
    """The extreme values of a widget: min and max, first and last option, on and off."""
    kind = widget.type
    if kind in ("slider",):
        return [widget.min, widget.max]
    if kind == "number_input":
        low = widget.min if widget.min is not None else widget.value - 10
        high = widget.max if widget.max is not None else widget.value + 10
        return [low, high]
    if kind == "select_slider":
        return [_number(widget.options[0]), _number(widget.options[-1])]
    if kind in ("radio", "selectbox"):
        return [_number(o) if re.fullmatch(r"[\d,.]+", o) else o for o in widget.options]
    if kind in ("checkbox", "toggle"):
        return [not widget.value, widget.value]
    return []


MOVABLE = ("slider", "select_slider", "number_input", "radio", "selectbox", "checkbox", "toggle")


def widget_keys(at: AppTest) -> list[tuple[str, str]]:
    """(kind, key) of every movable widget on the current page and sidebar."""
    found = []
    for kind in MOVABLE:
        for widget in getattr(at, kind):
            if widget.key and not widget.disabled:
                found.append((kind, widget.key))
    return found


def move_every_widget(at: AppTest, skip: tuple[str, ...] = ()) -> int:
    """Move every widget to each of its ends, rerunning after each move; returns moves."""
    moves = 0
    for kind, key in widget_keys(at):
        if key in skip or key.startswith("preset_"):  # a preset picker: tests/app/test_presets.py opens each
            continue
        original = getattr(at, kind)(key=key).value
        for value in widget_ends(getattr(at, kind)(key=key)) + [original]:
            getattr(at, kind)(key=key).set_value(value)
            at.run()
            assert_clean(at)
            moves += 1
    return moves


def chart_data(at, key):
    """The plotly spec of the chart whose key is `key`."""
    charts = [c for c in at.get("plotly_chart") if c.proto.id.endswith(key)]
    assert len(charts) == 1, [c.proto.id for c in at.get("plotly_chart")]
    return json.loads(charts[0].proto.spec)


def heatmap_values(at, key):
    """The z matrix of the chart's first trace, decoded from plotly's typed-array form."""
    return np.asarray(plotted_array(chart_data(at, key)["data"][0]["z"]), dtype=float).tolist()


def chart_title(spec: dict) -> str:
    """A chart's title: the page writes it above the chart and keeps it in the chart's meta."""
    layout = spec["layout"]
    return (layout.get("meta") or {}).get("title") or layout.get("title", {}).get("text") or ""
