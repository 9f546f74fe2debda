"""Figures for the attention pages: annotated matrices, the identity limit, the
permutation gap and the measured cost of attention against convolution."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from seqviz.attention.attention import IdentitySweep
from seqviz.plots.common import base_layout, style
from seqviz.plots.palette import ROLE_COLORS, SIGNED_SCALE, WEIGHTS_SCALE, categorical

MAX_WRITTEN_COLUMNS = 10   # a matrix wider than this shows its numbers on hover only


def _cell_text(matrix: np.ndarray) -> str:
    """A texttemplate short enough to fit in a cell."""
    finite = np.abs(matrix[np.isfinite(matrix)])
    return "%{z:.3g}" if finite.size and finite.max() >= 1000 else "%{z:.4~g}"


def _heatmap(matrix: np.ndarray, x: Sequence[str], y: Sequence[str], *, colorscale: str,
             zmin: float | None, zmax: float | None, texttemplate: str, size: int,
             name: str, **axes: str) -> dict:
    """One annotated heatmap trace as a dict (plotly validates it once, with the figure).
    The signed scale is centred on 0 unless the caller fixes the range."""
    centre = dict(zmid=0.0) if colorscale == SIGNED_SCALE and zmin is None and zmax is None else {}
    return dict(type="heatmap", z=matrix, x=list(x), y=list(y), colorscale=colorscale,
                zmin=zmin, zmax=zmax, texttemplate=texttemplate, textfont=dict(size=size),
                showscale=False, name=name,
                hovertemplate="row %{y}, column %{x}: %{z}<extra></extra>", **centre, **axes)


def matrix_heatmap(matrix: np.ndarray, title: str, *, row_labels: Sequence[str] | None = None,
                   col_labels: Sequence[str] | None = None, colorscale: str = SIGNED_SCALE,
                   zmin: float | None = None, zmax: float | None = None,
                   height: int | None = None) -> go.Figure:
    """A matrix as a heatmap with every value written in its cell (row 0 on top); by
    default on the palette's signed scale, centred on 0 (white)."""
    matrix = np.asarray(matrix, dtype=float)
    rows, cols = matrix.shape
    row_labels = list(row_labels) if row_labels is not None else [f"{i + 1}" for i in range(rows)]
    col_labels = list(col_labels) if col_labels is not None else [f"{j + 1}" for j in range(cols)]
    layout = base_layout(title, height=height or max(200, 70 + 34 * rows))
    layout.update(margin=dict(l=70, r=10, t=80, b=10),
                  xaxis=dict(type="category", side="top"),
                  yaxis=dict(type="category", autorange="reversed"))
    # past MAX_WRITTEN_COLUMNS a cell is narrower than its number: the colours and the hover tell
    text = _cell_text(matrix) if cols <= MAX_WRITTEN_COLUMNS else ""
    trace = _heatmap(matrix, col_labels, row_labels, colorscale=colorscale, zmin=zmin, zmax=zmax,
                     texttemplate=text, size=13, name=title)
    return go.Figure(data=[trace], layout=layout)


def weights_heatmap(weights: np.ndarray, title: str, *, query_labels: Sequence[str],
                    key_labels: Sequence[str], normalised: str | None = "keys") -> go.Figure:
    """Attention weights with each row's sum (and, when normalised down the columns, each
    column's sum) in the labels, so students can check what sums to 1."""
    weights = np.asarray(weights, dtype=float)
    row_labels = [f"{q} Σ={s:.3g}" for q, s in zip(query_labels, weights.sum(axis=1))]
    col_labels = list(key_labels)
    if normalised == "queries":
        col_labels = [f"{k} Σ={s:.3g}" for k, s in zip(key_labels, weights.sum(axis=0))]
    bounded = normalised is not None
    return matrix_heatmap(weights, title, row_labels=row_labels, col_labels=col_labels,
                          colorscale=WEIGHTS_SCALE if bounded else SIGNED_SCALE, zmin=0.0 if bounded else None,
                          zmax=1.0 if bounded else None)


def heads_heatmaps(weights: np.ndarray, *, query_labels: Sequence[str],
                   key_labels: Sequence[str], scores: bool = False) -> go.Figure:
    """One annotated weight matrix per head, side by side: weights (heads, N_Q, N_KV)."""
    heads, gap = weights.shape[0], 0.03
    width = (1.0 - gap * (heads - 1)) / heads
    layout = base_layout(f"Weights of each of {heads} heads",
                         height=max(240, 110 + 32 * weights.shape[1]))
    layout.update(margin=dict(l=50, r=10, t=80, b=30), annotations=[])
    traces = []
    for h in range(heads):
        suffix = "" if h == 0 else str(h + 1)
        left = h * (width + gap)
        layout[f"xaxis{suffix}"] = dict(domain=[left, left + width], type="category", anchor=f"y{suffix}")
        layout[f"yaxis{suffix}"] = dict(type="category", autorange="reversed", anchor=f"x{suffix}",
                                        showticklabels=h == 0)
        layout["annotations"].append(dict(text=f"head {h + 1}", x=left + width / 2, y=1.0,
                                          xref="paper", yref="paper", yanchor="bottom",
                                          showarrow=False))
        traces.append(_heatmap(weights[h], key_labels, query_labels,
                               colorscale=SIGNED_SCALE if scores else WEIGHTS_SCALE,
                               zmin=None if scores else 0.0, zmax=None if scores else 1.0,
                               texttemplate="%{z:.2f}", size=11, name=f"head {h + 1}",
                               xaxis=f"x{suffix}", yaxis=f"y{suffix}"))
    return go.Figure(data=traces, layout=layout)


def identity_errors(sweep: IdentitySweep, current_c: float) -> go.Figure:
    """||A - I|| and ||output - V|| against c (log y), with the chosen c marked."""
    floor = 1e-16
    traces = [dict(type="scatter", x=sweep.c, y=np.maximum(values, floor), mode="lines",
                   name=name, line=dict(color=color, width=3))
              for values, name, color in ((sweep.weight_error, "‖A − I‖_F", ROLE_COLORS["hot"]),
                                          (sweep.output_error, "‖output − V‖_F", ROLE_COLORS["closed"]))]
    layout = base_layout("K = I, Q = c·I: the weights approach I and the output approaches V",
                         x_title="c", y_title="Frobenius norm (log)", height=360)
    layout["yaxis"].update(type="log", exponentformat="power")
    layout["shapes"] = [dict(type="line", x0=current_c, x1=current_c, y0=0, y1=1, yref="paper",
                             line=dict(color=ROLE_COLORS["accent"], dash="dash"))]
    layout["annotations"] = [dict(x=current_c, y=1, yref="paper", text=f"c = {current_c:g}",
                                  showarrow=False, xanchor="left", yanchor="bottom")]
    return go.Figure(data=traces, layout=layout)


def token_gaps(gaps: dict[str, np.ndarray], floor: float = 1e-9) -> go.Figure:
    """Largest |f(PX) − P f(X)| of each token, one bar group per positional encoding."""
    traces = [dict(type="bar", x=np.arange(1, len(values) + 1), y=np.maximum(values, floor),
                   name=name, marker=dict(color=categorical(i))) for i, (name, values) in enumerate(gaps.items())]
    layout = base_layout("Per token: largest |f(PX) − P f(X)| (float32 rounding is about 1e-7)",
                         x_title="token (position after shuffling)", y_title="difference (log)",
                         height=320)
    layout["yaxis"].update(type="log", exponentformat="power")
    layout["barmode"] = "group"
    return go.Figure(data=traces, layout=layout)


def cost_loglog(tokens: np.ndarray, milliseconds: dict[str, np.ndarray], slopes: dict[str, float],
                theory: dict[str, np.ndarray]) -> go.Figure:
    """Measured times against N (log-log), one series per method ("attention",
    "convolution"; NaN where a size was skipped), with theory curves anchored to the
    largest measured point of each method."""
    tokens = np.asarray(tokens, dtype=float)
    fig = go.Figure()
    for name in ("attention", "convolution"):
        color = ROLE_COLORS[name]
        times = np.asarray(milliseconds[name], dtype=float)
        measured = np.isfinite(times)
        fig.add_trace(go.Scatter(x=tokens[measured], y=times[measured], mode="lines+markers",
                                 name=f"{name}: measured, slope " + (
                                     "n/a" if np.isnan(slopes[name]) else f"{slopes[name]:.2f}"),
                                 line=dict(color=color, width=3), marker=dict(size=9)))
        if measured.any():
            last = np.flatnonzero(measured)[-1]
            curve = theory[name] / theory[name][last] * times[last]
            label = "O(N² d), slope 2" if name == "attention" else "O(N k² C²), slope 1"
            fig.add_trace(go.Scatter(x=tokens, y=curve, mode="lines", name=f"theory {label}",
                                     line=dict(color=color, dash="dot", width=2)))
    sides = [int(round(np.sqrt(t))) for t in tokens]
    fig.update_xaxes(type="log", tickvals=tokens, ticktext=[f"{s}²" for s in sides])
    fig.update_yaxes(type="log", exponentformat="power")
    return style(fig, "Time per forward pass against the number of pixels N = H·W",
                 x_title="N = side² (tokens = pixels)", y_title="time (ms)", height=420)
