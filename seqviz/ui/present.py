"""Presentation mode: one switch (URL key ``present=1``) that every page honours.

In front of a class on a projector: the sidebar starts folded away and the layout is wide,
the page's text is larger, and every chart drawn through ``seqviz.ui.charts`` is redrawn
with text of at least 18 px, lines of at least 4 px and heatmap numbers only where a cell
can hold them (``seqviz.plots.common.for_projector``). The switch lives in the sidebar and
in the URL, so a lecturer's bookmark opens the lecture as it will be shown.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from seqviz.plots.common import for_projector
from seqviz.ui import params

KEY = "present"
_ON = {"1", "true", "yes", "on"}

# The page's own text, one step larger: Streamlit sizes its text in rem, so the root font
# size scales headings, paragraphs, metrics and widget labels together.
_CSS = """<style>
html { font-size: 21px; }
[data-testid="stMainBlockContainer"] { padding-left: 2.5rem; padding-right: 2.5rem; max-width: none; }
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"] { padding-left: 0.75rem; padding-right: 0.75rem; }
}
</style>"""


def requested() -> bool:
    """Whether this run is in presentation mode: the session's switch, or on a session's first
    run (before the switch exists) the URL. Read it before the page config is set."""
    if KEY in st.session_state:
        return bool(st.session_state[KEY])
    return str(st.query_params.get(KEY, "")).strip().lower() in _ON


def switch(container: Any) -> bool:
    """The presentation-mode switch, bound to the URL; draws the larger text when on."""
    on = params.toggle("Presentation mode", False, key=KEY, container=container,
                       help="For a projector: larger text on the page and in every chart, thick "
                            "lines, the sidebar folded away (the arrow at the top left opens it "
                            "again). It is in the link as present=1.")
    if on:
        st.html(_CSS)
    return on


def on() -> bool:
    """Whether presentation mode is on in this session."""
    return bool(st.session_state.get(KEY, False))


def figure(fig: go.Figure) -> go.Figure:
    """The figure as this session shows it: for the projector when presentation mode is on."""
    return for_projector(fig) if on() else fig
