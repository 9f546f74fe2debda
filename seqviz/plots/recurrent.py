"""Figures for the recurrent-network pages: training curves, states, probes, gradients."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from seqviz.plots.common import panel_label, style
from seqviz.plots.palette import CATEGORICAL, INK, LIGHT_GREY, MODEL_COLORS, READOUT_COLORS, categorical

MODEL_NAMES = {"rnn-tanh": "RNN (tanh)", "rnn-relu": "RNN (ReLU)", "lstm": "LSTM", "gru": "GRU",
               "tcn": "TCN"}
CLASS_NAMES = ("0: nothing yet", "token 1", "token 2", "token 3")
SYMBOLS = {0: "·", 1: "1", 2: "2", 3: "3", 4: "?"}


def training_curves(histories: dict[str, Sequence], title: str,
                    sources: dict[str, str] | None = None) -> go.Figure:
    """Loss and accuracy against step: validation solid, training (batch) dotted.

    `histories` maps a model kind to its evaluation points (objects with step,
    train_loss, train_accuracy, val_loss, val_accuracy); `sources` names where each
    came from ("this session", "shipped, seed 0"), shown in the legend."""
    fig = make_subplots(rows=1, cols=2,
                        subplot_titles=(panel_label("final-answer loss"), panel_label("final-answer accuracy")))
    sources = sources or {}
    for kind, points in histories.items():
        if not points:
            continue
        steps = [p.step for p in points]
        color, name = MODEL_COLORS.get(kind, INK), MODEL_NAMES.get(kind, kind)
        if kind in sources:
            name = f"{name} ({sources[kind]})"
        for col, metric in ((1, "loss"), (2, "accuracy")):
            for split, dash in (("val", "solid"), ("train", "dot")):
                fig.add_trace(go.Scatter(
                    x=steps, y=[getattr(p, f"{split}_{metric}") for p in points],
                    mode="lines" if len(points) > 12 else "lines+markers",
                    name=f"{name} {split}", legendgroup=kind, showlegend=col == 1,
                    line=dict(color=color, dash=dash)), row=1, col=col)
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_xaxes(title_text="training step")
    return style(fig, title, height=440)


def prediction_bars(probabilities: dict[str, np.ndarray], target: int) -> go.Figure:
    """Each model's final answer as class probabilities; the right class is marked."""
    fig = go.Figure()
    for kind, p in probabilities.items():
        fig.add_trace(go.Bar(x=list(CLASS_NAMES), y=p, name=MODEL_NAMES.get(kind, kind),
                             marker_color=MODEL_COLORS.get(kind)))
    fig.update_layout(barmode="group", yaxis_range=[0, 1])
    fig.add_annotation(x=CLASS_NAMES[target], y=1.0, text="right answer", showarrow=False,
                       yshift=8)
    return style(fig, "Answer at the request", y_title="probability", height=320)


def state_heatmap(values: np.ndarray, tokens: np.ndarray, title: str, *, symmetric: bool = True
                  ) -> go.Figure:
    """A (units, time) matrix; the x axis is labelled with the input symbols."""
    steps = np.arange(values.shape[1])
    limit = float(np.abs(values).max()) or 1.0
    fig = go.Figure(go.Heatmap(
        z=values, x=steps, y=np.arange(values.shape[0]), name=title,
        colorscale="RdBu_r" if symmetric else "Viridis",
        zmin=-limit if symmetric else 0, zmax=limit if symmetric else 1,
        hovertemplate="t=%{x} unit=%{y}: %{z:.3f}<extra></extra>"))
    fig.update_xaxes(tickmode="array", tickvals=steps,
                     ticktext=[f"{SYMBOLS.get(int(s), s)}<br>{t}" for t, s in zip(steps, tokens)]
                     if len(steps) <= 60 else None)
    return style(fig, title, x_title="time step (input symbol above)", y_title="unit", height=320)


def gate_heatmaps(gates: dict[str, np.ndarray], tokens: np.ndarray) -> go.Figure:
    """The LSTM's four gates (units, time) in one 2 x 2 figure; sigmoid gates on 0..1."""
    names = list(gates)
    fig = make_subplots(rows=2, cols=2, subplot_titles=[f"{n} gate" for n in names],
                        horizontal_spacing=0.08, vertical_spacing=0.14)
    for index, name in enumerate(names):
        candidate = name == "candidate"
        fig.add_trace(go.Heatmap(
            z=gates[name], name=f"{name} gate", colorscale="RdBu_r" if candidate else "Viridis",
            zmin=-1 if candidate else 0, zmax=1, showscale=name in ("input", "candidate"),
            colorbar=dict(len=0.45, y=0.22 if candidate else 0.78,
                          title="g" if candidate else "i, f, o"),
            hovertemplate=f"{name}: t=%{{x}} unit=%{{y}}: %{{z:.3f}}<extra></extra>"),
            row=index // 2 + 1, col=index % 2 + 1)
    steps = np.arange(len(tokens))
    if len(steps) <= 30:
        fig.update_xaxes(tickmode="array", tickvals=steps,
                         ticktext=[SYMBOLS.get(int(t), str(t)) for t in tokens])
    return style(fig, "LSTM gates (units × time; the input symbol under each step)", height=560)


def probe_curves(curves: dict[str, np.ndarray], position: int) -> go.Figure:
    """Held-out accuracy per step of a linear probe on the states, and of the output."""
    fig = go.Figure()
    styles = {"probe on hₜ": ("solid", 5), "probe on cₜ": ("dash", 2), "output yₜ (argmax)": ("dot", 2)}
    for name, values in curves.items():
        (dash, width), color = styles.get(name, ("solid", 2)), READOUT_COLORS.get(name, INK)
        fig.add_trace(go.Scatter(x=np.arange(len(values)), y=values, mode="lines+markers",
                                 name=name, line=dict(color=color, dash=dash, width=width)))
    fig.add_hline(y=1 / 3, line_dash="dot", line_color=LIGHT_GREY, annotation_text="chance 1/3")
    fig.add_vline(x=position, line_dash="dash", line_color=INK, annotation_text="token",
                  annotation_position="bottom right")
    fig.update_yaxes(range=[-0.02, 1.05])
    return style(fig, "Can the stored token be read at step t?", x_title="time step",
                 y_title="held-out accuracy", height=340)


def gradient_norms(curves: dict[str, np.ndarray], length: int,
                   notes: dict[str, str] | None = None) -> go.Figure:
    """||dL/dh_t|| against t on a log axis; zeros (underflow) and non-finite values are
    left out, and `notes` (a flagged reading) are added to the model's legend entry."""
    fig = go.Figure()
    notes = notes or {}
    for kind, norms in curves.items():
        norms = np.asarray(norms, dtype=float)
        shown = np.where((norms > 0) & np.isfinite(norms), norms, np.nan)
        label = MODEL_NAMES.get(kind, kind) + (" (‖∂L/∂xₜ‖)" if kind == "tcn" else "")
        if kind in notes:
            label += f": {notes[kind]}"
        fig.add_trace(go.Scatter(x=np.arange(len(norms)), y=shown, mode="lines", name=label,
                                 line=dict(color=MODEL_COLORS.get(kind))))
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_xaxes(range=[0, length - 1])
    return style(fig, "Gradient norm at every step, from one backward pass (loss at the end)",
                 x_title="time step t", y_title="‖∂L/∂hₜ‖", height=440)


def eigenvalue_plot(spectra: dict[str, object]) -> go.Figure:
    """One panel per model: eigenvalues of W_hh in the complex plane, the unit circle, and
    the circle of radius sigma_max (every eigenvalue lies inside it).

    `spectra` maps a kind to an object with eigenvalues, sigma_max and spectral_radius
    (seqviz.recurrent.spectrum.Spectrum)."""
    kinds = list(spectra)
    titles = [f"{MODEL_NAMES.get(k, k)}<br>σₘₐₓ = {spectra[k].sigma_max:.3g}<br>"
              f"max |λ| = {spectra[k].spectral_radius:.3g}" for k in kinds]   # three short lines: narrow panels
    columns = min(2, max(1, len(kinds)))          # two panels to a row: each keeps room for its label
    rows = -(-max(1, len(kinds)) // columns)
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=titles or None,
                        horizontal_spacing=0.12, vertical_spacing=0.32 / rows)
    angle = np.linspace(0, 2 * np.pi, 120)
    limit = max([1.0] + [spectra[k].sigma_max for k in kinds]) * 1.1
    for index, kind in enumerate(kinds, start=1):
        row, col = divmod(index - 1, columns)
        row, col = row + 1, col + 1
        values, sigma = np.asarray(spectra[kind].eigenvalues), spectra[kind].sigma_max
        fig.add_trace(go.Scatter(x=np.cos(angle), y=np.sin(angle), mode="lines", name="unit circle",
                                 legendgroup="unit", showlegend=index == 1,
                                 line=dict(color=LIGHT_GREY, dash="dash")), row=row, col=col)
        fig.add_trace(go.Scatter(x=sigma * np.cos(angle), y=sigma * np.sin(angle), mode="lines",
                                 name="radius σₘₐₓ", legendgroup="sigma", showlegend=index == 1,
                                 line=dict(color=INK, dash="dot")), row=row, col=col)
        fig.add_trace(go.Scatter(x=values.real, y=values.imag, mode="markers",
                                 name=f"{MODEL_NAMES.get(kind, kind)} eigenvalues",
                                 marker=dict(color=MODEL_COLORS.get(kind), size=6, opacity=0.8)),
                      row=row, col=col)
        axis = "" if index == 1 else str(index)
        fig.update_xaxes(range=[-limit, limit], row=row, col=col,
                         title_text="real" if row == rows else None)   # the bottom row only: clear of the labels below
        fig.update_yaxes(range=[-limit, limit], row=row, col=col, scaleanchor=f"x{axis}", scaleratio=1,
                         constrain="domain")
        fig.update_xaxes(constrain="domain", row=row, col=col)   # a wide panel narrows, the circle keeps its size
    fig.update_yaxes(title_text="imaginary", col=1)
    fig.update_annotations(font_size=12)
    return style(fig, "Eigenvalues of Wₕₕ, one panel per model", height=80 + 340 * rows)


def capacity_curves(frame: pd.DataFrame, title: str) -> go.Figure:
    """Trainability: validation accuracy against sequence length, one line per hidden size
    (and model); with several seeds per point, the mean and a min-max bar."""
    fig = go.Figure()
    dashes = {"rnn-tanh": "solid", "lstm": "dash", "gru": "dot"}
    hiddens = sorted(frame["hidden"].unique())
    for (kind, hidden), rows in frame.groupby(["kind", "hidden"], sort=True):
        points = rows.groupby("length")["val_accuracy"].agg(["mean", "min", "max"]).sort_index()
        fig.add_trace(go.Scatter(
            x=points.index, y=points["mean"], mode="lines+markers",
            name=f"{MODEL_NAMES.get(kind, kind)} H={hidden}",
            error_y=dict(type="data", symmetric=False, array=points["max"] - points["mean"],
                         arrayminus=points["mean"] - points["min"], thickness=1),
            line=dict(dash=dashes.get(kind, "solid"),
                      color=categorical(hiddens.index(hidden)))))
    fig.add_hline(y=1 / 3, line_dash="dot", line_color=LIGHT_GREY, annotation_text="chance")
    lengths = sorted(frame["length"].unique())
    fig.update_xaxes(type="log", tickvals=lengths, ticktext=[str(v) for v in lengths])
    fig.update_yaxes(range=[0, 1.05])
    return style(fig, title, x_title="sequence length (log scale)",
                 y_title="validation accuracy", height=440)


RECALL_PANELS = (("sequence_accuracy", "all k tokens right"), ("token_accuracy", "tokens right (each)"),
                 ("bits_recalled", "bits recalled"))


def recall_capacity(summaries: Sequence, title: str) -> go.Figure:
    """Recall-k against k, one line per hidden size: all-k accuracy, per-token accuracy, and
    bits recalled beside the k log2(3) bits shown. Mean over seeds with a min-max bar.

    `summaries` are seqviz.recurrent.capacity.CapacitySummary (kind, hidden, k, and a
    Spread per score)."""
    fig = make_subplots(rows=1, cols=3, subplot_titles=[panel_label(name, 10) for _, name in RECALL_PANELS],
                        horizontal_spacing=0.1)
    groups: dict[tuple[str, int], list] = {}
    for summary in summaries:
        groups.setdefault((summary.kind, summary.hidden), []).append(summary)
    hiddens = sorted({hidden for _, hidden in groups})
    ks = sorted({s.k for s in summaries})
    for (kind, hidden), rows in sorted(groups.items()):
        rows = sorted(rows, key=lambda r: r.k)
        color = CATEGORICAL[hiddens.index(hidden) % len(CATEGORICAL)]
        for col, (metric, _) in enumerate(RECALL_PANELS, start=1):
            spreads = [getattr(r, metric) for r in rows]
            mean = np.array([s.mean for s in spreads])
            fig.add_trace(go.Scatter(
                x=[r.k for r in rows], y=mean, mode="lines+markers",
                name=f"{MODEL_NAMES.get(kind, kind)} H={hidden}", legendgroup=f"{kind}{hidden}",
                showlegend=col == 1, line=dict(color=color),
                error_y=dict(type="data", symmetric=False, thickness=1,
                             array=np.array([s.maximum for s in spreads]) - mean,
                             arrayminus=mean - np.array([s.minimum for s in spreads])),
                hovertemplate=f"H={hidden}, k=%{{x}}: %{{y:.3f}}<extra></extra>"), row=1, col=col)
    if ks:
        fig.add_trace(go.Scatter(x=ks, y=[k * np.log2(3) for k in ks], mode="lines",
                                 name="all shown: k·log₂3 bits", line=dict(color=LIGHT_GREY, dash="dash")),
                      row=1, col=3)
        fig.add_trace(go.Scatter(x=ks, y=[3.0 ** -k for k in ks], mode="lines", name="chance",
                                 line=dict(color=LIGHT_GREY, dash="dot")), row=1, col=1)
        fig.add_trace(go.Scatter(x=ks, y=[1 / 3] * len(ks), mode="lines", name="chance (each)",
                                 showlegend=False, line=dict(color=LIGHT_GREY, dash="dot")), row=1, col=2)
    fig.update_yaxes(range=[0, 1.03], row=1, col=1)
    fig.update_yaxes(range=[0, 1.03], row=1, col=2)
    fig.update_xaxes(type="log", tickvals=ks, ticktext=[str(k) for k in ks])
    fig.update_xaxes(title_text="k tokens to recall", row=1, col=2)   # once: three would collide on a phone
    return style(fig, title, height=460)


def seed_strip(runs: Sequence, task: str, metric: str, shipped_seed: int = 0) -> go.Figure:
    """Every seed's score per model as a dot, the shipped seed ringed: one draw among many.

    `runs` are seqviz.recurrent.seeds.SeedRun rows."""
    fig = go.Figure()
    kinds = list(dict.fromkeys(r.kind for r in runs if r.task == task))
    for index, kind in enumerate(kinds):
        rows = [r for r in runs if r.task == task and r.kind == kind]
        values = [getattr(r, metric) for r in rows]
        offsets = np.linspace(-0.15, 0.15, len(rows)) if len(rows) > 1 else np.zeros(1)
        fig.add_trace(go.Scatter(
            x=index + offsets, y=values, mode="markers", name=MODEL_NAMES.get(kind, kind),
            marker=dict(color=MODEL_COLORS.get(kind), size=9,
                        line=dict(width=[3 if r.seed == shipped_seed else 0 for r in rows], color=INK)),
            customdata=[r.seed for r in rows],
            hovertemplate="seed %{customdata}: %{y:.3f}<extra></extra>"))
        fig.add_trace(go.Scatter(x=[index - 0.25, index + 0.25], y=[float(np.mean(values))] * 2,
                                 mode="lines", line=dict(color=INK, width=2), showlegend=False,
                                 name=f"{MODEL_NAMES.get(kind, kind)} mean", hoverinfo="skip"))
    fig.add_hline(y=1 / 3, line_dash="dot", line_color=LIGHT_GREY, annotation_text="chance 1/3")
    fig.update_xaxes(tickvals=list(range(len(kinds))), ticktext=[MODEL_NAMES.get(k, k) for k in kinds])
    fig.update_yaxes(range=[-0.03, 1.03])
    return style(fig, f"{task}: {metric.replace('_', ' ')} of every seed (ringed: the shipped seed "
                      f"{shipped_seed}; bar: mean)", y_title=metric.replace("_", " "), height=360)
