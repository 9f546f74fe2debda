"""Figures for the recurrent-network pages: training curves, states, probes, gradients."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from seqviz.plots.common import style
from seqviz.plots.palette import MODEL_COLORS

MODEL_NAMES = {"rnn-tanh": "RNN (tanh)", "rnn-relu": "RNN (ReLU)", "lstm": "LSTM", "gru": "GRU",
               "tcn": "TCN"}
CLASS_NAMES = ("0: nothing yet", "token 1", "token 2", "token 3")
SYMBOLS = {0: "·", 1: "1", 2: "2", 3: "3", 4: "?"}


def training_curves(histories: dict[str, list[dict]], title: str) -> go.Figure:
    """Loss and accuracy against step: validation solid, training (batch) dotted."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("final-answer loss", "final-answer accuracy"))
    for kind, rows in histories.items():
        frame = pd.DataFrame(rows)
        if frame.empty:
            continue
        color, name = MODEL_COLORS.get(kind, "#333"), MODEL_NAMES.get(kind, kind)
        for col, metric in ((1, "loss"), (2, "accuracy")):
            for split, dash in (("val", "solid"), ("train", "dot")):
                fig.add_trace(go.Scatter(
                    x=frame["step"], y=frame[f"{split}_{metric}"],
                    mode="lines" if len(frame) > 12 else "lines+markers",
                    name=f"{name} {split}", legendgroup=kind, showlegend=col == 1,
                    line=dict(color=color, dash=dash)), row=1, col=col)
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_xaxes(title_text="training step")
    return _legend_below(style(fig, title, height=440))


def _legend_below(fig: go.Figure) -> go.Figure:
    """Many traces: the legend goes under the plot, clear of the titles."""
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0.0),
                      margin=dict(b=110))
    return fig


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


def output_trace(probabilities: np.ndarray, position: int) -> go.Figure:
    """y_t as class probabilities (C, T) at every step."""
    fig = go.Figure()
    colors = ("#7f7f7f", "#1f77b4", "#2ca02c", "#d62728")
    for c, name in enumerate(CLASS_NAMES):
        fig.add_trace(go.Scatter(x=np.arange(probabilities.shape[1]), y=probabilities[c],
                                 mode="lines+markers", name=name, line=dict(color=colors[c])))
    fig.add_vline(x=position, line_dash="dash", line_color="#444")
    fig.update_yaxes(range=[0, 1.02])
    return style(fig, "Output y_t: what the model would answer at each step",
                 x_title="time step", y_title="probability", height=320)


def probe_curves(curves: dict[str, np.ndarray], position: int) -> go.Figure:
    """Held-out accuracy per step of a linear probe on the states, and of the output."""
    fig = go.Figure()
    styles = {"probe on h_t": ("#d62728", "solid", 5), "probe on c_t": ("#ff7f0e", "dash", 2),
              "output y_t (argmax)": ("#1f77b4", "dot", 2)}
    for name, values in curves.items():
        color, dash, width = styles.get(name, ("#333", "solid", 2))
        fig.add_trace(go.Scatter(x=np.arange(len(values)), y=values, mode="lines+markers",
                                 name=name, line=dict(color=color, dash=dash, width=width)))
    fig.add_hline(y=1 / 3, line_dash="dot", line_color="#999", annotation_text="chance 1/3")
    fig.add_vline(x=position, line_dash="dash", line_color="#444", annotation_text="token",
                  annotation_position="bottom right")
    fig.update_yaxes(range=[-0.02, 1.05])
    return style(fig, "Can the stored token be read at step t?", x_title="time step",
                 y_title="held-out accuracy", height=340)


def gradient_norms(curves: dict[str, np.ndarray], length: int) -> go.Figure:
    """||dL/dh_t|| against t on a log axis; zeros (underflow) are left out."""
    fig = go.Figure()
    for kind, norms in curves.items():
        norms = np.asarray(norms, dtype=float)
        shown = np.where(norms > 0, norms, np.nan)
        label = MODEL_NAMES.get(kind, kind) + (" (dL/dx_t)" if kind == "tcn" else "")
        fig.add_trace(go.Scatter(x=np.arange(len(norms)), y=shown, mode="lines", name=label,
                                 line=dict(color=MODEL_COLORS.get(kind))))
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_xaxes(range=[0, length - 1])
    return style(fig, "Gradient norm at every step, from one backward pass (loss at the end)",
                 x_title="time step t", y_title="||dL/dh_t||", height=400)


def eigenvalue_plot(eigenvalues: dict[str, np.ndarray]) -> go.Figure:
    """Eigenvalues of each recurrent matrix in the complex plane, with the unit circle."""
    angle = np.linspace(0, 2 * np.pi, 200)
    fig = go.Figure(go.Scatter(x=np.cos(angle), y=np.sin(angle), mode="lines", name="unit circle",
                               line=dict(color="#999", dash="dash")))
    for kind, values in eigenvalues.items():
        fig.add_trace(go.Scatter(x=values.real, y=values.imag, mode="markers",
                                 name=MODEL_NAMES.get(kind, kind),
                                 marker=dict(color=MODEL_COLORS.get(kind), size=6, opacity=0.7)))
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return style(fig, "Eigenvalues of W_hh", x_title="real", y_title="imaginary", height=400)


def capacity_curves(frame: pd.DataFrame, title: str) -> go.Figure:
    """Validation accuracy against sequence length, one line per hidden size (and model)."""
    fig = go.Figure()
    dashes = {"rnn-tanh": "solid", "lstm": "dash", "gru": "dot"}
    palette = ("#440154", "#31688e", "#35b779", "#e6a700", "#d62728", "#7f7f7f")
    hiddens = sorted(frame["hidden"].unique())
    for (kind, hidden), rows in frame.groupby(["kind", "hidden"], sort=True):
        rows = rows.sort_values("length")
        fig.add_trace(go.Scatter(
            x=rows["length"], y=rows["val_accuracy"], mode="lines+markers",
            name=f"{MODEL_NAMES.get(kind, kind)} H={hidden}",
            line=dict(dash=dashes.get(kind, "solid"),
                      color=palette[hiddens.index(hidden) % len(palette)])))
    fig.add_hline(y=1 / 3, line_dash="dot", line_color="#999", annotation_text="chance")
    lengths = sorted(frame["length"].unique())
    fig.update_xaxes(type="log", tickvals=lengths, ticktext=[str(v) for v in lengths])
    fig.update_yaxes(range=[0, 1.05])
    return _legend_below(style(fig, title, x_title="sequence length (log scale)",
                               y_title="validation accuracy", height=440))
