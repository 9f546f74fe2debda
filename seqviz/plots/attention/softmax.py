"""Figures for the softmax-flattening page: the hot entry against D, the output, the
logit scale needed, and the spread of dot products with and without 1/sqrt(d_k)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from seqviz.attention.softmax import FlatteningTable
from seqviz.plots.common import style
from seqviz.plots.palette import INK, ROLE_COLORS

SUB = {"hot": "ₕₒₜ", "other": "ₒₜₕₑᵣ"}  # p_hot, p_other as plotly writes them (no LaTeX offline)


def flattening_curves(table: FlatteningTable, current_D: int) -> go.Figure:
    """p_hot and p_other against D on log axes: closed form (lines) and torch (markers)."""
    fig = go.Figure()
    D = table.D
    for which, closed, measured in (("hot", table.p_hot_closed, table.p_hot_torch),
                                    ("other", table.p_other_closed, table.p_other_torch)):
        color = ROLE_COLORS[which]
        fig.add_trace(go.Scatter(x=D, y=closed, mode="lines",
                                 name=f"p{SUB[which]} closed form", line=dict(color=color, width=3)))
        fig.add_trace(go.Scatter(x=D, y=measured, mode="markers",
                                 name=f"p{SUB[which]} torch.softmax",
                                 marker=dict(color=color, symbol="x", size=8)))
    fig.add_trace(go.Scatter(x=D, y=1.0 / D, mode="lines", name="uniform 1/D",
                             line=dict(color=INK, dash="dot", width=1)))
    low = min(table.p_other_closed.min(), table.p_other_torch.min())
    fig.add_trace(go.Scatter(x=[current_D, current_D], y=[low, 1.0], mode="lines",
                             name=f"your D = {current_D:,}",
                             line=dict(color=ROLE_COLORS["accent"], dash="dash")))
    span = np.log10([D.min(), D.max()])
    fig.update_xaxes(type="log", range=[span[0] - 0.1, span[1] + 0.1])  # log axes take log10 ranges
    fig.update_yaxes(type="log")
    return style(fig, "Softmax of a one-hot vector flattens as D grows",
                 x_title="D (vector length)", y_title="probability")


def output_bars(D: int, p_hot: float, p_other: float, max_bars: int = 40) -> go.Figure:
    """The softmax output at this D: every entry when D is small, else a summary."""
    if D <= max_bars:
        labels = [f"x{i}" for i in range(D)]
        values = [p_hot] + [p_other] * (D - 1)
        colors = [ROLE_COLORS["hot"]] + [ROLE_COLORS["other"]] * (D - 1)
        title = f"softmax output, all {D} entries"
    else:
        labels = ["hot entry", "each other entry", f"all {D - 1:,} others together"]
        values = [p_hot, p_other, p_other * (D - 1)]
        colors = [ROLE_COLORS["hot"], ROLE_COLORS["other"], ROLE_COLORS["other"]]
        title = f"softmax output at D = {D:,} (summary of {D:,} entries)"
    fig = go.Figure(go.Bar(x=labels, y=values, marker_color=colors, name="probability",
                           text=[f"{v:.4g}" for v in values], textposition="outside"))
    fig.update_yaxes(range=[0, 1.1])
    return style(fig, title, y_title="probability", height=320)


def scale_needed(dims: np.ndarray, scales: np.ndarray, target: float, current_D: int,
                 current_scale: float) -> go.Figure:
    """The logit scale c needed to keep p_hot >= target, against D (log x axis)."""
    fig = go.Figure(go.Scatter(x=dims, y=scales, mode="lines", name=f"c needed for pₕₒₜ ≥ {target}",
                               line=dict(color=ROLE_COLORS["hot"], width=3)))
    fig.add_trace(go.Scatter(x=[current_D], y=[current_scale], mode="markers", name="your c",
                             marker=dict(color=ROLE_COLORS["accent"], size=12, symbol="diamond")))
    span = np.log10([dims.min(), dims.max()])
    fig.update_xaxes(type="log", range=[span[0] - 0.1, span[1] + 0.1])
    return style(fig, "The logit gap must grow like log D", x_title="D",
                 y_title="logit scale c", height=320)


def dot_product_histograms(raw: np.ndarray, scaled: np.ndarray, d_k: int,
                           bins: int = 60) -> go.Figure:
    """Density histograms of q.k and q.k / sqrt(d_k) for random unit-variance vectors."""
    fig = go.Figure()
    for scores, name, color in ((raw, f"q·k (var ≈ {raw.var():.1f})", ROLE_COLORS["raw"]),
                                (scaled, f"q·k/√dₖ (var ≈ {scaled.var():.2f})", ROLE_COLORS["scaled"])):
        density, edges = np.histogram(scores, bins=bins, density=True)
        fig.add_trace(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=density, width=np.diff(edges),
                             name=name, opacity=0.6, marker_color=color))
    fig.update_layout(barmode="overlay", bargap=0)
    return style(fig, f"Dot products of random vectors, dₖ = {d_k}", x_title="score",
                 y_title="density", height=340)
