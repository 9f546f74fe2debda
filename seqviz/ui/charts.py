"""Chart rendering: PNG export from the chart toolbar and a CSV of the figure's data."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from seqviz.plots.common import figure_to_frame


def show_chart(fig: go.Figure, *, key: str, filename: str | None = None) -> None:
    """Draw a plotly figure with a PNG button in its toolbar and a CSV download below it."""
    name = filename or key
    config = {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": name, "scale": 2},
    }
    st.plotly_chart(fig, key=key, config=config)
    st.download_button(  # the CSV is built only when the button is clicked
        "Download data (CSV)", lambda: figure_to_frame(fig).to_csv(index=False),
        file_name=f"{name}.csv", mime="text/csv", key=f"{key}_csv", on_click="ignore",
        icon=":material/download:",
    )
