"""Helpers shared by the figure builders: a house style and figure -> table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

# The legend sits under the chart, at the figure's bottom edge: a row of entries that wraps on a
# narrow screen pushes the margin down instead of running over the title or the axis titles.
LEGEND = dict(orientation="h", yref="container", y=0.0, yanchor="bottom", xanchor="left", x=0.0)


def base_layout(title: str, *, x_title: str = "", y_title: str = "", height: int = 360) -> dict:
    """The common layout as a dict: title, axis titles, compact margins, legend at the bottom.

    Passing it to go.Figure(..., layout=...) at construction is several times faster
    than updating a built figure, which matters on pages that draw many small figures.
    """
    return dict(
        title=dict(text=title, x=0.0, xanchor="left"), height=height,
        margin=dict(l=60, r=20, t=60, b=50),
        legend=LEGEND,
        xaxis=dict(title=dict(text=x_title)), yaxis=dict(title=dict(text=y_title)),
    )


def panel_label(text: str, width: int = 12) -> str:
    """A panel's label broken into lines of about `width` characters at its spaces, so a row of
    narrow panels keeps its labels apart on a phone."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def style(fig: go.Figure, title: str, *, x_title: str = "", y_title: str = "",
          height: int = 360) -> go.Figure:
    """Apply the common layout: title, axis titles, compact margins, legend at the bottom."""
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


PROJECTOR_FONT = 18      # px: the smallest chart text in presentation mode
PROJECTOR_TITLE = 24
PROJECTOR_LINE = 4       # px: the thinnest line
PROJECTOR_MARKER = 10
PROJECTOR_HEIGHT = 1.3   # charts grow with their text


def _font(spec: dict | None, size: int) -> dict:
    spec = dict(spec or {})
    spec["size"] = max(size, spec.get("size") or 0)
    return spec


def heatmap_cell_px(trace: dict, layout: dict) -> float:
    """The height of one heatmap cell in pixels, from the figure's height and margins (its
    width depends on the screen, so the height is what a builder can know)."""
    rows = np.asarray(trace.get("z", [[0]]), dtype=object).shape[0] or 1
    margin = layout.get("margin", {})
    plot_height = layout.get("height", 450) - margin.get("t", 100) - margin.get("b", 80)
    return plot_height / rows


def for_projector(fig: go.Figure) -> go.Figure:
    """The figure for presentation mode: every text at least 18 px (titles 24 px), lines at
    least 4 px, markers at least 10 px, the chart taller to hold them; a heatmap's numbers
    stay only when a cell is tall enough to hold a line of them, else they are hidden (the
    hover still tells). Returns a new figure; the one passed in is left as it was."""
    spec = fig.to_plotly_json()
    layout = dict(spec.get("layout", {}))
    layout["height"] = int(layout.get("height", 450) * PROJECTOR_HEIGHT)
    layout["font"] = _font(layout.get("font"), PROJECTOR_FONT)
    title = layout.get("title")
    if isinstance(title, dict) and title.get("text"):
        layout["title"] = {**title, "font": _font(title.get("font"), PROJECTOR_TITLE)}
    layout["legend"] = {**layout.get("legend", {}), "font": _font(layout.get("legend", {}).get("font"),
                                                                   PROJECTOR_FONT)}
    axes = {"xaxis", "yaxis"} | {k for k in layout if k.startswith(("xaxis", "yaxis"))}
    for name in axes:
        axis = dict(layout.get(name, {}))
        axis["tickfont"] = _font(axis.get("tickfont"), PROJECTOR_FONT)
        axis["title"] = {**axis.get("title", {}), "font": _font(axis.get("title", {}).get("font"),
                                                                 PROJECTOR_FONT + 2)}
        axis["automargin"] = True
        layout[name] = axis
    layout["annotations"] = [{**a, "font": _font(a.get("font"), PROJECTOR_FONT)}
                             for a in layout.get("annotations", [])]
    layout["hoverlabel"] = {**layout.get("hoverlabel", {}), "font": _font(None, PROJECTOR_FONT)}
    data = []
    for trace in spec.get("data", []):
        trace = dict(trace)
        kind = trace.get("type", "scatter")
        if kind == "scatter":
            mode = trace.get("mode", "lines+markers")
            if "lines" in mode:
                line = dict(trace.get("line", {}))
                if isinstance(line.get("width", 2), (int, float)):
                    line["width"] = max(PROJECTOR_LINE, line.get("width", 2))
                trace["line"] = line
            if "markers" in mode:
                marker = dict(trace.get("marker", {}))
                if isinstance(marker.get("size", 6), (int, float)):
                    marker["size"] = max(PROJECTOR_MARKER, marker.get("size", 6))
                trace["marker"] = marker
            if "text" in mode:
                trace["textfont"] = _font(trace.get("textfont"), PROJECTOR_FONT)
        elif kind == "heatmap" and trace.get("texttemplate"):
            if heatmap_cell_px(trace, layout) < 1.6 * PROJECTOR_FONT:
                trace["texttemplate"] = ""
            else:
                trace["textfont"] = _font(trace.get("textfont"), PROJECTOR_FONT)
        elif kind in {"bar", "box"}:
            trace["textfont"] = _font(trace.get("textfont"), PROJECTOR_FONT)
        if isinstance(trace.get("colorbar"), dict):
            trace["colorbar"] = {**trace["colorbar"], "tickfont": _font(trace["colorbar"].get("tickfont"),
                                                                        PROJECTOR_FONT)}
        data.append(trace)
    return go.Figure(data=data, layout=layout, frames=spec.get("frames"))
