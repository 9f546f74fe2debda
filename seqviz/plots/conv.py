"""Figure for convolution arithmetic (CURRICULUM section 4): where the receptive field
of each layer's centre output pixel lies on the input grid."""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from seqviz.conv import LayerRow
from seqviz.plots.common import style

LAYER_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def receptive_field_picture(n: int, rows: Sequence[LayerRow]) -> go.Figure:
    """The n x n input (grey), padding shown beyond it, and nested squares: the input
    pixels that the centre output pixel of each layer sees."""
    fig = go.Figure()
    fig.add_shape(type="rect", x0=0, y0=0, x1=n, y1=n, line=dict(color="#444", width=2),
                  fillcolor="#eeeeee", layer="below")
    low, high = 0, n
    for index, row in enumerate(rows):
        color = LAYER_COLORS[index % len(LAYER_COLORS)]
        start, end = row.centre_start, row.centre_start + row.receptive_field
        low, high = min(low, start), max(high, end)
        fig.add_shape(type="rect", x0=start, y0=start, x1=end, y1=end,
                      line=dict(color=color, width=2), fillcolor=color, opacity=0.18)
        # an invisible trace per layer gives the legend entry and the CSV row
        fig.add_trace(go.Scatter(
            x=[start, end], y=[start, end], mode="markers", marker=dict(color=color, size=7,
                                                                        symbol="square"),
            name=f"layer {index + 1}: {row.receptive_field}×{row.receptive_field} "
                 f"(output {row.output_size}×{row.output_size})"))
    margin = max(1, (high - low) * 0.03)
    fig.update_xaxes(range=[low - margin, high + margin], constrain="domain", title="input column")
    fig.update_yaxes(range=[high + margin, low - margin], scaleanchor="x", title="input row")
    fig = style(fig, f"Receptive field of the centre output pixel on the {n}×{n} input",
                height=520)
    fig.update_layout(legend=dict(orientation="v", y=1.0, x=1.02, xanchor="left", yanchor="top"))
    return fig
