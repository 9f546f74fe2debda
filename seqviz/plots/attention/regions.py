"""Figures for the words-to-regions page: the quadrant x word attention map, the test-set
accuracy of the two text-to-image models against the number of objects in a sentence, and
their learning curves."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from seqviz.plots.common import base_layout
from seqviz.plots.palette import BLUE, INK, VERMILLION, WEIGHTS_SCALE

VARIANT_COLORS = {"attention": VERMILLION, "one-vector": BLUE}
VARIANT_NAMES = {"attention": "cross-attention", "one-vector": "one vector (no attention)"}


def quadrant_word_map(weights: np.ndarray, words: Sequence[str], quadrants: Sequence[str], title: str,
                      *, marked: int | None = None) -> go.Figure:
    """Attention weights (4, N): one row per quadrant, one column per word of the sentence, every
    weight written in its cell; `marked` outlines the column of a word that was changed. The
    columns are positions (a word may come twice), labelled with the words."""
    weights = np.asarray(weights, dtype=float)
    n = weights.shape[1]
    layout = base_layout(title, height=300)
    layout.update(margin=dict(l=100, r=10, t=80 if n <= 12 else 130, b=20),
                  xaxis=dict(tickmode="array", tickvals=list(range(n)), ticktext=list(words), side="top",
                             tickangle=0 if n <= 12 else -60, range=[-0.5, n - 0.5]),
                  yaxis=dict(tickmode="array", tickvals=list(range(len(quadrants))),
                             ticktext=list(quadrants), autorange="reversed"))
    if marked is not None:
        layout["shapes"] = [dict(type="rect", x0=marked - 0.5, x1=marked + 0.5, y0=-0.5,
                                 y1=len(quadrants) - 0.5, line=dict(color=INK, width=3))]
    trace = dict(type="heatmap", z=weights, x=list(range(n)), y=list(range(len(quadrants))),
                 colorscale=WEIGHTS_SCALE, zmin=0.0, zmax=1.0, texttemplate="%{z:.2f}",
                 textfont=dict(size=11), showscale=False, name=title,
                 customdata=np.broadcast_to(np.asarray(words, dtype=object), weights.shape),
                 hovertemplate="%{y}: word %{x} (%{customdata}) weight %{z:.3f}<extra></extra>")
    return go.Figure(data=[trace], layout=layout)


def accuracy_by_objects(rows: Sequence, metric: str, title: str, y_title: str, *, suffix: str = "") -> go.Figure:
    """One line per model variant: the mean over seeds of `metric` at 1 to 4 objects per sentence,
    and one marker per seed. `rows` are regions_experiment.QualityRow (objects 0 is left out) of
    the experiments named variant + `suffix`."""
    data = []
    for variant, color in VARIANT_COLORS.items():
        chosen = [r for r in rows if r.variant == variant + suffix and r.objects > 0]
        if not chosen:
            continue
        counts = sorted({r.objects for r in chosen})
        means = [100 * float(np.mean([getattr(r, metric) for r in chosen if r.objects == k])) for k in counts]
        data.append(dict(type="scatter", mode="lines+markers", x=counts, y=means,
                         name=f"{VARIANT_NAMES[variant]}, mean", line=dict(color=color, width=3), marker=dict(size=9)))
        data.append(dict(type="scatter", mode="markers", x=[r.objects for r in chosen],
                         y=[100 * getattr(r, metric) for r in chosen], name=f"{VARIANT_NAMES[variant]}, each seed",
                         marker=dict(color=color, size=7, symbol="circle-open"),
                         customdata=[r.seed for r in chosen],
                         hovertemplate="seed %{customdata}: %{y:.1f}%<extra></extra>"))
    layout = base_layout(title, x_title="objects named in the sentence", y_title=y_title, height=380)
    layout["xaxis"].update(dtick=1)
    layout["yaxis"].update(range=[0, 102])
    layout["margin"] = dict(l=60, r=20, t=60, b=50)
    return go.Figure(data=data, layout=layout)


def learning_curves(rows: Sequence, objects: int, title: str, *, early_step: int | None = None) -> go.Figure:
    """Share of test sentences with `objects` objects drawn entirely right against training steps:
    one line per model (mean over seeds), one thin line per seed. `rows` are CurveRow of the
    experiments "attention" and "one-vector"."""
    data = []
    for variant, color in VARIANT_COLORS.items():
        chosen = [r for r in rows if r.experiment == variant and r.objects == objects]
        if not chosen:
            continue
        steps = sorted({r.step for r in chosen})
        for seed in sorted({r.seed for r in chosen}):
            mine = sorted((r.step, r.scene_accuracy) for r in chosen if r.seed == seed)
            data.append(dict(type="scatter", mode="lines", x=[s for s, _ in mine], y=[100 * a for _, a in mine],
                             name=f"{VARIANT_NAMES[variant]}, seed {seed}", legendgroup=variant, showlegend=False,
                             line=dict(color=color, width=1), opacity=0.45))
        means = [100 * float(np.mean([r.scene_accuracy for r in chosen if r.step == s])) for s in steps]
        data.append(dict(type="scatter", mode="lines", x=steps, y=means, name=f"{VARIANT_NAMES[variant]}, mean",
                         legendgroup=variant, line=dict(color=color, width=3)))
    layout = base_layout(title, x_title="training steps (128 new sentences each)",
                         y_title="% of test sentences right", height=380)
    layout["yaxis"].update(range=[0, 102])
    layout["margin"] = dict(l=60, r=20, t=60, b=50)
    if early_step is not None:
        layout["shapes"] = [dict(type="line", x0=early_step, x1=early_step, y0=0, y1=1, yref="y domain",
                                 line=dict(color="#7f7f7f", dash="dash"))]
    return go.Figure(data=data, layout=layout)
