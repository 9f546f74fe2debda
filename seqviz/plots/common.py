"""Helpers shared by the figure builders: a house style and figure -> table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

COLORS = {"closed": "#1f77b4", "torch": "#ff7f0e", "hot": "#d62728", "other": "#7f7f7f",
          "raw": "#9467bd", "scaled": "#2ca02c", "accent": "#17becf"}


def style(fig: go.Figure, title: str, *, x_title: str = "", y_title: str = "",
          height: int = 360) -> go.Figure:
    """Apply the common layout: title, axis titles, compact margins, legend on top."""
    fig.update_layout(
        title=dict(text=title, x=0.0, xanchor="left"), height=height,
        margin=dict(l=60, r=20, t=60, b=50),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
        xaxis_title=x_title, yaxis_title=y_title,
    )
    return fig


def figure_to_frame(fig: go.Figure) -> pd.DataFrame:
    """The data behind a figure as a long table (trace, x, y[, z]) for a CSV download."""
    frames = []
    for index, trace in enumerate(fig.data):
        name = trace.name or f"trace {index}"
        x = getattr(trace, "x", None)
        y = getattr(trace, "y", None)
        z = getattr(trace, "z", None)
        if z is not None:
            z = np.asarray(z, dtype=float)
            rows, cols = np.indices(z.shape)
            xs = np.asarray(x)[cols.ravel()] if x is not None else cols.ravel()
            ys = np.asarray(y)[rows.ravel()] if y is not None else rows.ravel()
            frames.append(pd.DataFrame({"trace": name, "x": xs, "y": ys, "z": z.ravel()}))
        elif x is not None or y is not None:
            if x is None:
                x = np.arange(len(y))
            if y is None:
                y = np.full(len(x), np.nan)
            frames.append(pd.DataFrame({"trace": name, "x": np.asarray(x), "y": np.asarray(y)}))
    if not frames:
        return pd.DataFrame(columns=["trace", "x", "y"])
    return pd.concat(frames, ignore_index=True)
