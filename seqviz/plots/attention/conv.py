"""Figure for convolution arithmetic: where the receptive field of each layer's centre
output pixel lies on the input grid."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from seqviz.attention.conv import LayerRow
from seqviz.plots.common import panel_label, style
from seqviz.plots.palette import INK, LIGHT_GREY, categorical


def _square(start: float, end: float) -> tuple[list[float], list[float]]:
    return [start, end, end, start, start], [start, start, end, end, start]


def receptive_field_picture(n: int, rows: Sequence[LayerRow]) -> go.Figure:
    """Left: the whole n x n input with nested squares, the input pixels seen by the
    centre output pixel of each layer. Right: the same, zoomed in, one grid line per pixel
    (parts outside the input are padding)."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08,
                        subplot_titles=(panel_label(f"the whole {n}×{n} input"),
                                        panel_label("zoomed: one cell = one pixel")))
    low, high = 0, n
    for column in (1, 2):
        xs, ys = _square(0, n)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", fill="toself", fillcolor="rgba(127,127,127,0.15)",
                                 line=dict(color=INK, width=2), name=f"input {n}×{n}",
                                 showlegend=column == 1, hoverinfo="skip"), 1, column)
    for index, row in reversed(list(enumerate(rows))):  # largest first, so small ones stay on top
        color = categorical(index)
        start, end = row.centre_start, row.centre_start + row.receptive_field
        low, high = min(low, start), max(high, end)
        xs, ys = _square(start, end)
        for column in (1, 2):
            fig.add_trace(go.Scatter(
                x=xs, y=ys, mode="lines", fill="toself", opacity=0.55, line=dict(color=color, width=2),
                name=f"layer {index + 1}: sees {row.receptive_field}×{row.receptive_field} "
                     f"(output {row.output_size}×{row.output_size})",
                legendgroup=str(index), showlegend=column == 1,
                hovertemplate=f"layer {index + 1}: input pixels {start}…{end - 1}<extra></extra>"),
                1, column)
    margin = max(1.0, (high - low) * 0.03)
    fig.update_xaxes(range=[low - margin, high + margin], constrain="domain", row=1, col=1)
    fig.update_yaxes(range=[high + margin, low - margin], scaleanchor="x", row=1, col=1)
    if rows:
        zoom_low = min(r.centre_start for r in rows) - 2
        zoom_high = max(r.centre_start + r.receptive_field for r in rows) + 2
        pixel_grid = dict(dtick=1, showgrid=True, gridcolor=LIGHT_GREY) if zoom_high - zoom_low <= 80 else {}
        fig.update_xaxes(range=[zoom_low, zoom_high], constrain="domain", row=1, col=2,
                         minor=pixel_grid, layer="above traces")
        fig.update_yaxes(range=[zoom_high, zoom_low], scaleanchor="x2", row=1, col=2,
                         minor=pixel_grid, layer="above traces")
    fig = style(fig, f"Receptive field of the centre output pixel on the {n}×{n} input", height=520)
    fig.update_layout(margin=dict(l=50, r=20, t=80, b=50))
    return fig
