"""Chart rendering: PNG export from the chart toolbar and a CSV of the figure's data."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import plotly.graph_objects as go
import streamlit as st

from seqviz.plots.common import figure_to_frame
from seqviz.ui import params, present

# A figure may be shared between sessions (a cached one); its title is lifted off only for
# the moment it is serialised, one session at a time.
_LIFT = threading.Lock()


@contextmanager
def _title_lifted(fig: go.Figure):
    """The figure without its title (and the top margin the title needed), for as long as the
    block runs; yields the title text. The page writes the title above the chart instead, where
    it wraps on any screen, so it can never run off a phone's width or under a legend."""
    with _LIFT:
        layout = fig.layout
        title, meta, top = layout.title.text, layout.meta, layout.margin.t
        if not title:
            yield None
            return
        layout.title.text = None
        layout.meta = {"title": title}      # kept in the chart's data, for whoever reads it
        if top is not None and not layout.annotations:   # panel labels keep the room above them
            layout.margin.t = max(24, top - 36)
        try:
            yield title
        finally:
            layout.title.text, layout.meta, layout.margin.t = title, meta, top


def chart_title(title: str) -> str:
    """A figure title as markdown: bold, its line breaks as spaces, nothing read as syntax."""
    return f"**{params.plain(title.replace('<br>', ' '))}**"


def show_chart(fig: go.Figure, *, key: str, filename: str | None = None) -> None:
    """Draw a plotly figure with a PNG button in its toolbar and a CSV download below it."""
    name = filename or key
    config = {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": name, "scale": 2},
    }
    shown = present.figure(fig)
    with _title_lifted(shown) as title:
        if title:
            st.markdown(chart_title(title))
        st.plotly_chart(shown, key=key, config=config)
    st.download_button(  # the CSV is built only when the button is clicked
        "Download data (CSV)", lambda: figure_to_frame(fig).to_csv(index=False),
        file_name=f"{name}.csv", mime="text/csv", key=f"{key}_csv", on_click="ignore",
        icon=":material/download:",
    )
