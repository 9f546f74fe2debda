"""Helpers shared by the figure builders: a house style and figure -> table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go


def base_layout(title: str, *, x_title: str = "", y_title: str = "", height: int = 360) -> dict:
    """The common layout as a dict: title, axis titles, compact margins, legend on top.

    Passing it to go.Figure(..., layout=...) at construction is several times faster
    than updating a built figure, which matters on pages that draw many small figures.
    """
    return dict(
        title=dict(text=title, x=0.0, xanchor="left"), height=height,
        margin=dict(l=60, r=20, t=60, b=50),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
        xaxis=dict(title=dict(text=x_title)), yaxis=dict(title=dict(text=y_title)),
    )


def style(fig: go.Figure, title: str, *, x_title: str = "", y_title: str = "",
          height: int = 360) -> go.Figure:
    """Apply the common layout: title, axis titles, compact margins, legend on top."""
    fig.update_layout(**base_layout(title, x_title=x_title, y_title=y_title, height=height))
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
