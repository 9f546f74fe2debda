"""Figures of the predictive ViT page: video animations, prediction panels, metrics,
attention overlays and ablation curves (pure functions of arrays, no streamlit)."""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Sequence

import numpy as np
import PIL.Image
import plotly.colors
import plotly.graph_objects as go

from seqviz.plots.common import base_layout, panel_label, style
from seqviz.plots.palette import ERROR_SCALE, GREY, TRANSPARENT, VALUES_SCALE, VERMILLION, categorical

__all__ = ["video_animation", "image_panels", "metric_curves", "attention_overlay",
           "loss_curves", "moving_average", "colorize", "to_uint8", "ratio_chart"]

QUERY_COLOR = VERMILLION     # the outline of the query patch on the attention maps
BASELINE_COLOR = GREY        # a baseline (copying the last frame) next to the models


@functools.cache
def _lookup_table(scale: str) -> np.ndarray:
    """256 colours sampled along a plotly colour scale: float (256, 3) in [0, 1]."""
    table = np.array(plotly.colors.convert_colors_to_same_type(
        plotly.colors.sample_colorscale(scale, np.linspace(0, 1, 256)), "tuple")[0])
    table.flags.writeable = False
    return table


def colorize(values: np.ndarray, vmax: float, scale: str = ERROR_SCALE) -> np.ndarray:
    """Map values in [0, vmax] through a plotly colour scale: float (..., 3) in [0, 1].

    Done here rather than with go.Heatmap so that the app's chart theme cannot recolour it.
    """
    lut = _lookup_table(scale)                                                       # (256, 3)
    index = np.clip(np.asarray(values, float) / (vmax or 1.0), 0, 1) * 255
    return lut[index.round().astype(int)]


def to_uint8(image: np.ndarray) -> np.ndarray:
    """float [0, 1] or uint8 image -> uint8."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8)


HIDDEN_AXIS = dict(showticklabels=False, showgrid=False, zeroline=False)


PANELS_PER_ROW = 4   # more panels than this wrap onto another row: each stays wide enough for its label


def _row_layout(titles: Sequence[str], title: str, *, height: int, spacing: float = 0.02,
                hidden: bool = True) -> dict:
    """The layout of a grid of panels, at most PANELS_PER_ROW to a row (what make_subplots
    builds) as a dict: axes x/y, x2/y2, ... with a short label above each, broken into lines
    (`panel_label`) so that neighbours never run into each other on a narrow screen. Built in
    one go because make_subplots and update_* calls cost tens of milliseconds on every rerun."""
    count = len(titles)
    columns = min(count, PANELS_PER_ROW) or 1
    rows = -(-count // columns)
    width = (1 - spacing * (columns - 1)) / columns
    labels = [panel_label(name) for name in titles]
    label_px = 20 * max([1] + [label.count("<br>") + 1 for label in labels])
    total = height if rows == 1 else int(height * 0.8 * rows)   # wrapped rows are a little shorter
    layout = base_layout(title, height=total)
    layout["margin"] = dict(l=10, r=10, t=70, b=10)
    layout["annotations"] = []
    plot_px = total - 80
    gap = (label_px + 8) / plot_px                       # room for the labels of the next row
    row_height = (1 - gap * (rows - 1)) / rows
    for index, name in enumerate(labels):
        suffix = "" if index == 0 else str(index + 1)
        row, column = divmod(index, columns)
        left = column * (width + spacing)
        top = 1.0 - row * (row_height + gap)
        axis = dict(HIDDEN_AXIS) if hidden else {}
        layout[f"xaxis{suffix}"] = dict(axis, anchor=f"y{suffix}", domain=[left, left + width])
        layout[f"yaxis{suffix}"] = dict(axis, anchor=f"x{suffix}", domain=[max(0.0, top - row_height), top])
        layout["annotations"].append(dict(text=name, x=left + width / 2, y=top, xref="paper", yref="paper",
                                          xanchor="center", yanchor="bottom", showarrow=False,
                                          font=dict(size=14)))
    return layout


def _axes(index: int) -> dict:
    """The trace keywords that put a trace on the index-th subplot (0-based)."""
    return dict(xaxis=f"x{index + 1 if index else ''}", yaxis=f"y{index + 1 if index else ''}")


def png_source(image: np.ndarray) -> str:
    """A uint8 (H, W, 3) image as a PNG data URI, for go.Image(source=...)."""
    buffer = io.BytesIO()
    PIL.Image.fromarray(to_uint8(image)).save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def video_animation(frames: np.ndarray, title: str, *, fps: int = 8, height: int = 380) -> go.Figure:
    """A playable animation of uint8 (T, H, W, 3) frames: play/pause buttons and a frame slider.

    Each frame is a PNG (go.Image source), not an array of numbers: the figure's JSON is a
    few kB per frame and is written in milliseconds on every page rerun."""
    sources = [png_source(frame) for frame in to_uint8(frames)]
    duration = int(1000 / max(1, fps))
    play = dict(label="▶ Play", method="animate",
                args=[None, dict(frame=dict(duration=duration, redraw=True), fromcurrent=True,
                                 transition=dict(duration=0))])
    pause = dict(label="❚❚ Pause", method="animate",
                 args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate")])
    steps = [dict(method="animate", label=str(t),
                  args=[[str(t)], dict(frame=dict(duration=0, redraw=True), mode="immediate")])
             for t in range(len(sources))]
    layout = base_layout(title, height=height)
    layout.update(
        margin=dict(l=10, r=10, t=50, b=90), xaxis=dict(HIDDEN_AXIS), yaxis=dict(HIDDEN_AXIS),
        updatemenus=[dict(type="buttons", direction="left", x=0.0, y=-0.02, xanchor="left",
                          yanchor="top", buttons=[play, pause])],
        sliders=[dict(active=0, steps=steps, x=0.25, len=0.75, y=-0.02, yanchor="top",
                      currentvalue=dict(prefix="frame ", visible=True))],
    )
    return go.Figure(data=[dict(type="image", source=sources[0])], layout=layout,
                     frames=[dict(data=[dict(type="image", source=source)], name=str(t))
                             for t, source in enumerate(sources)])


def image_panels(panels: Sequence[tuple[str, np.ndarray]], title: str, *, height: int = 300,
                 error_max: float = 0.5) -> go.Figure:
    """Images side by side; a 2-D panel (an |error| map) is coloured black (0) to yellow (error_max)."""
    titles = [f"{name} (0–{error_max:g})" if np.ndim(image) == 2 else name for name, image in panels]
    data = []
    for index, (name, image) in enumerate(panels):
        image = np.asarray(image)
        if image.ndim == 2:
            data.append(dict(type="image", z=to_uint8(colorize(image, error_max)), name=name,
                             customdata=image, hovertemplate="|error| %{customdata:.3f}<extra></extra>",
                             **_axes(index)))
        else:
            data.append(dict(type="image", z=to_uint8(image), name=name, **_axes(index)))
    return go.Figure(data=data, layout=_row_layout(titles, title, height=height))


def metric_curves(times: np.ndarray, series: dict[str, tuple[np.ndarray, np.ndarray]], *,
                  marker: int | None = None, baseline: str | None = None, height: int = 420) -> go.Figure:
    """PSNR (top) and SSIM (bottom) per frame; `series` maps a name to (psnr, ssim).

    The series named `baseline` is drawn in BASELINE_COLOR; the others take the categorical colours."""
    models = [name for name in series if name != baseline]
    data = []
    for name, (psnr, ssim) in series.items():
        color = BASELINE_COLOR if name == baseline else categorical(models.index(name))
        data.append(dict(type="scatter", x=times, y=psnr, name=f"{name} PSNR", legendgroup=name,
                         line=dict(color=color)))
        data.append(dict(type="scatter", x=times, y=ssim, name=f"{name} SSIM", legendgroup=name,
                         line=dict(color=color, dash="dot"), showlegend=False, xaxis="x2", yaxis="y2"))
    layout = base_layout("Quality of each predicted frame", height=height)
    layout.update(
        margin=dict(l=60, r=20, t=90, b=50),
        xaxis=dict(anchor="y", domain=[0.0, 1.0], matches="x2", showticklabels=False),
        yaxis=dict(anchor="x", domain=[0.54, 1.0]),
        xaxis2=dict(anchor="y2", domain=[0.0, 1.0], title=dict(text="predicted frame")),
        yaxis2=dict(anchor="x2", domain=[0.0, 0.46]),
        annotations=[dict(text=text, x=0.5, y=y, xref="paper", yref="paper", xanchor="center",
                          yanchor="bottom", showarrow=False, font=dict(size=16))
                     for text, y in (("PSNR (dB, higher is better)", 1.0), ("SSIM (1 is perfect)", 0.46))],
        shapes=[] if marker is None else [
            dict(type="line", x0=marker, x1=marker, xref=axis, y0=0, y1=1, yref=f"{y} domain",
                 line=dict(color=GREY, dash="dash"))
            for axis, y in (("x", "y"), ("x2", "y2"))],
    )
    return go.Figure(data=data, layout=layout)


def attention_overlay(frames: np.ndarray, weights: np.ndarray, query: tuple[int, int],
                      patch_size: int, title: str, *, height: int = 300) -> go.Figure:
    """Attention of one query patch over every input frame, blended over the frames
    (Viridis: dark purple = no weight, yellow = the largest weight shown); the query patch
    is outlined in QUERY_COLOR.

    frames: uint8 (F, H, W, 3); weights: (F, grid, grid), summing to 1 over all frames.
    """
    count = len(frames)
    layout = _row_layout([f"input frame t−{count - i}" for i in range(count)], title, height=height)
    size = frames.shape[1]
    top = float(weights.max()) or 1.0
    row, col = query
    data, shapes = [], []
    for index in range(count):
        cells = np.kron(weights[index], np.ones((patch_size, patch_size)))          # (H, W)
        blend = 0.35 * frames[index] / 255.0 + 0.65 * colorize(cells, top, VALUES_SCALE)  # (H, W, 3)
        axes = _axes(index)
        data.append(dict(type="image", z=to_uint8(blend), customdata=cells, name="attention weight",
                         hovertemplate="weight %{customdata:.4f}<extra></extra>", **axes))
        shapes.append(dict(type="rect", x0=col * patch_size - 0.5, x1=(col + 1) * patch_size - 0.5,
                           y0=row * patch_size - 0.5, y1=(row + 1) * patch_size - 0.5,
                           xref=axes["xaxis"], yref=axes["yaxis"], line=dict(color=QUERY_COLOR, width=2)))
        suffix = axes["xaxis"][1:]
        layout[f"xaxis{suffix}"]["range"] = [-0.5, size - 0.5]
        layout[f"yaxis{suffix}"]["range"] = [size - 0.5, -0.5]
    layout["shapes"] = shapes
    return go.Figure(data=data, layout=layout)


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Mean of the last `window` values at each step (fewer at the start)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return values
    sums = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (sums[1:] - sums[np.arange(1, len(values) + 1) - counts]) / counts


def loss_curves(curves: dict[str, Sequence[float]], *, height: int = 340, window: int = 25) -> go.Figure:
    """Training loss against step for several runs (moving average of `window` steps), log scale."""
    fig = go.Figure()
    for index, (name, loss) in enumerate(curves.items()):
        fig.add_trace(go.Scatter(x=np.arange(1, len(loss) + 1), y=moving_average(loss, window), name=name,
                                 line=dict(color=categorical(index))))
    style(fig, f"Training loss (MSE per pixel, mean of the last {window} steps)", x_title="step",
          y_title="loss", height=height)
    fig.update_yaxes(type="log")
    return fig


def ratio_chart(ratios: dict[str, dict[str, Sequence[float]]], *, target: float | None = None,
                height: int = 380) -> go.Figure:
    """|error| over copying's per model and pixel class, one dot per training seed and a bar for
    the mean. ratios: pixel class -> model label -> one ratio per seed. A line at 1 is copying
    the last frame; `target`, if given, a dashed line at the aim."""
    fig = go.Figure()
    models = list(next(iter(ratios.values()))) if ratios else []
    for index, (name, per_model) in enumerate(ratios.items()):
        color = categorical(index)
        means = [float(np.mean(per_model[m])) for m in models]
        fig.add_trace(go.Bar(x=models, y=means, name=f"{name} (mean)", marker_color=color, opacity=0.55,
                             offsetgroup=str(index), legendgroup=name,
                             hovertemplate="%{x}: mean %{y:.3f}<extra>" + name + "</extra>"))
        xs = [m for m in models for _ in per_model[m]]
        ys = [float(v) for m in models for v in per_model[m]]
        fig.add_trace(go.Box(x=xs, y=ys, name=f"{name} (each seed)", marker_color=color, boxpoints="all",
                             fillcolor=TRANSPARENT, line=dict(width=0), pointpos=0, jitter=0.3,
                             offsetgroup=str(index), legendgroup=name, showlegend=False,
                             hovertemplate="%{x}: %{y:.3f}<extra>one seed</extra>"))
    fig.add_hline(y=1.0, line=dict(color=BASELINE_COLOR, dash="solid"),
                  annotation_text="copying the last frame", annotation_position="top left")
    if target is not None:
        fig.add_hline(y=target, line=dict(color=GREY, dash="dash"), annotation_text=f"aim: {target:g}×",
                      annotation_position="bottom left")
    style(fig, "Held-out games: |error| ÷ copying's |error|, per pixel class (lower is better)",
          y_title="ratio to copying", height=height)
    fig.update_layout(barmode="group", boxmode="group")
    return fig
