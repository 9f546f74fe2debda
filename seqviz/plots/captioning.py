"""Figures of the video captioning page: the temporal attention of a caption (words x frames,
Show, Attend and Tell), the frames a word looked at, quality against the share of the clip
seen, the quality-latency curve of wait-k (Ma et al. 2019) and the real-time factor of each
captioner. Pure functions of numbers, no streamlit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from seqviz.captioning.summary import FractionCurve, LatencyCurve, Spread
from seqviz.plots.common import base_layout
from seqviz.plots.palette import BLUE, GREEN, GREY, INK, LIGHT_GREY, ORANGE, SKY, VERMILLION, WEIGHTS_SCALE
from seqviz.plots.vit import image_panels

__all__ = ["CAPTIONER_COLORS", "UNREAD_COLOR", "row_labels", "enlarge", "attention_heatmap", "top_frame_panels",
           "quality_by_fraction", "quality_latency", "real_time_chart"]

CAPTIONER_COLORS = {"per-frame": ORANGE, "offline": BLUE, "offline-multiplicative": SKY,
                    "offline-flow": GREEN, "live": VERMILLION}
UNREAD_COLOR = "#e6e6e6"          # cells of frames a word could not read yet
GUESS_COLOR = GREY


def enlarge(frame: np.ndarray, scale: int) -> np.ndarray:
    """A small uint8 frame (H, W, 3) blown up `scale` times with square pixels (no blur)."""
    return np.repeat(np.repeat(np.asarray(frame), scale, axis=0), scale, axis=1)


def row_labels(words: Sequence[str], rows: int) -> list[str]:
    """Unique row names "1 the", "2 red", ... and "<eos>" for a row past the words."""
    return [f"{i + 1} {words[i]}" if i < len(words) else "<eos>" for i in range(rows)]


def attention_heatmap(alpha: np.ndarray, words: Sequence[str], title: str, *,
                      readable: np.ndarray | None = None, frame: int | None = None,
                      chosen: int | None = None, height: int | None = None) -> go.Figure:
    """alpha (rows, frames): row i is the attention of word i (then <eos>) over the frames.
    Cells a word could not read (readable False) are drawn grey and hold no number; a dashed
    line marks `frame` (the frame the video is at) and a box the `chosen` row."""
    alpha = np.asarray(alpha, float)
    rows, count = alpha.shape
    labels = row_labels(words, rows)
    frames = list(range(count))
    shown = alpha.copy()
    data = []
    if readable is not None:
        readable = np.asarray(readable, bool)
        shown[~readable] = np.nan
        unread = np.where(readable, np.nan, 1.0)
        data.append(dict(type="heatmap", z=unread, x=frames, y=labels, name="not read yet",
                         colorscale=[[0, UNREAD_COLOR], [1, UNREAD_COLOR]], showscale=False,
                         hovertemplate="%{y}, frame %{x}: not read yet<extra></extra>", xgap=1, ygap=1))
    top = float(np.nanmax(shown)) if np.isfinite(shown).any() else 1.0
    data.append(dict(type="heatmap", z=shown, x=frames, y=labels, name="alpha", colorscale=WEIGHTS_SCALE,
                     zmin=0.0, zmax=top or 1.0, xgap=1, ygap=1,
                     colorbar=dict(title=dict(text="α"), thickness=12),
                     hovertemplate="%{y}, frame %{x}: α = %{z:.3f}<extra></extra>"))
    layout = base_layout(title, x_title="frame", height=height or max(240, 110 + 22 * rows))
    layout.update(margin=dict(l=110, r=20, t=60, b=50),
                  xaxis=dict(title=dict(text="frame"), dtick=2, range=[-0.5, count - 0.5]),
                  yaxis=dict(type="category", autorange="reversed"))
    shapes = []
    if frame is not None:
        shapes.append(dict(type="line", x0=frame, x1=frame, y0=0, y1=1, yref="paper",
                           line=dict(color=INK, dash="dash", width=1.5)))
    if chosen is not None and 0 <= chosen < rows:
        shapes.append(dict(type="rect", x0=-0.5, x1=count - 0.5, y0=chosen - 0.5, y1=chosen + 0.5,
                           line=dict(color=VERMILLION, width=2)))
    layout["shapes"] = shapes
    return go.Figure(data=data, layout=layout)


def top_frame_panels(frames: np.ndarray, tops: Sequence[tuple[int, float]], title: str, *,
                     height: int = 200) -> go.Figure:
    """The frames one word attended to most, side by side, each titled with its weight."""
    panels = [(f"frame {index}: α = {weight:.2f}", frames[index]) for index, weight in tops]
    return image_panels(panels, title, height=height)


def _error_bars(values: Sequence[Spread], scale: float) -> dict:
    return dict(type="data", symmetric=False, array=[scale * (v.high - v.mean) for v in values],
                arrayminus=[scale * (v.mean - v.low) for v in values], thickness=1.2, width=4)


def quality_by_fraction(curves: dict[str, FractionCurve], metric: str, *, percent: bool,
                        guess: float | None = None, labels: dict[str, str] | None = None,
                        height: int = 380) -> go.Figure:
    """Each captioner's quality after 25, 50, 75 and 100 % of the clip: the mean over training
    seeds, bars from the worst to the best seed; `guess`, if given, is guessing the order."""
    scale = 100.0 if percent else 1.0
    labels = labels or {}
    data = []
    for name, curve in curves.items():
        color = CAPTIONER_COLORS.get(name, GREY)
        data.append(dict(type="scatter", mode="lines+markers", name=labels.get(name, name),
                         x=[100 * f for f in curve.fractions], y=[scale * v.mean for v in curve.values],
                         error_y=_error_bars(curve.values, scale), line=dict(color=color),
                         marker=dict(color=color, size=8),
                         hovertemplate="%{x:.0f} % seen: %{y:.3g}<extra>" + labels.get(name, name) + "</extra>"))
    layout = base_layout(f"{metric} against the share of the clip seen (test clips; mean of "
                         f"{_seeds(curves.values())} seeds, bars: worst to best seed)",
                         x_title="share of the clip seen (%)", y_title=metric + (" (%)" if percent else ""),
                         height=height)
    layout["xaxis"].update(tickvals=[25, 50, 75, 100], range=[20, 105])
    layout["margin"] = dict(l=60, r=20, t=90, b=50)
    if percent:
        layout["yaxis"]["range"] = [0, 102]
    if guess is not None:
        layout["shapes"] = [dict(type="line", x0=0, x1=1, xref="paper", y0=scale * guess, y1=scale * guess,
                                 line=dict(color=GUESS_COLOR, dash="dash"))]
        layout["annotations"] = [dict(text=f"guessing the order: {scale * guess:.0f}{' %' if percent else ''}",
                                      x=0.01, xref="paper", y=scale * guess, yanchor="bottom", xanchor="left",
                                      showarrow=False, font=dict(color=GUESS_COLOR))]
    return go.Figure(data=data, layout=layout)


def _seeds(curves) -> str:
    counts = sorted({v.seeds for curve in curves for v in curve.values})
    return "/".join(str(c) for c in counts) or "0"


def quality_latency(curve: LatencyCurve, metric: str, *, percent: bool,
                    offline: tuple[float, Spread] | None = None,
                    redecode: tuple[Spread, Spread] | None = None, chosen_k: int | None = None,
                    height: int = 400) -> go.Figure:
    """Quality against Average Lagging (how many frames a word comes after an even writer's) for wait-k, one
    point per k (mean over seeds, bars worst to best seed), the offline model at the end,
    re-decoding at every frame, and the k chosen on the page ringed."""
    scale = 100.0 if percent else 1.0
    x = [v.mean for v in curve.lagging]
    y = [scale * v.mean for v in curve.quality]
    data = [dict(type="scatter", mode="lines+markers+text", name="live, wait-k", x=x, y=y,
                 text=[f"k={k}" if k in (1, 2, 4, 8, 16) or k == curve.ks[-1] else "" for k in curve.ks],
                 textposition="top center", customdata=list(curve.ks), error_y=_error_bars(curve.quality, scale),
                 line=dict(color=CAPTIONER_COLORS["live"]), marker=dict(size=7),
                 hovertemplate="wait-%{customdata}: lagging %{x:.2f} frames, %{y:.3g}<extra></extra>")]
    if redecode is not None:
        lag, quality = redecode
        data.append(dict(type="scatter", mode="markers", name="live, re-decode every frame", x=[lag.mean],
                         y=[scale * quality.mean], error_y=_error_bars([quality], scale),
                         marker=dict(symbol="diamond", size=13, color=ORANGE, line=dict(color=INK, width=1)),
                         hovertemplate="re-decode: lagging %{x:.2f} frames, %{y:.3g}<extra></extra>"))
    if offline is not None:
        lag, quality = offline
        data.append(dict(type="scatter", mode="markers", name="offline (whole clip)", x=[lag],
                         y=[scale * quality.mean], error_y=_error_bars([quality], scale),
                         marker=dict(symbol="star", size=15, color=CAPTIONER_COLORS["offline"]),
                         hovertemplate="offline: lagging %{x:.2f} frames, %{y:.3g}<extra></extra>"))
    if chosen_k is not None and chosen_k in curve.ks:
        i = curve.ks.index(chosen_k)
        data.append(dict(type="scatter", mode="markers", name=f"your k = {chosen_k}", x=[x[i]], y=[y[i]],
                         marker=dict(symbol="circle-open", size=20, color=INK, line=dict(width=2)),
                         hoverinfo="skip"))
    layout = base_layout("Quality against latency: wait-k for every k, re-decoding and offline (test clips)",
                         x_title="Average Lagging (frames behind a writer spreading the words evenly)",
                         y_title=metric + (" (%)" if percent else ""), height=height)
    layout["margin"] = dict(l=60, r=20, t=90, b=50)
    if percent:
        layout["yaxis"]["range"] = [0, 102]
    return go.Figure(data=data, layout=layout)


def real_time_chart(factors: dict[str, float], *, fps: float, height: int = 260) -> go.Figure:
    """Real-time factor of each captioner (time taken over the frames' duration at `fps`,
    log scale) with the line at 1: left of it keeps up with the video."""
    names = list(factors)
    values = [factors[n] for n in names]
    colors = [CAPTIONER_COLORS.get(n.split(" ")[0], GREY) for n in names]
    data = [dict(type="bar", orientation="h", x=values, y=names, marker=dict(color=colors),
                 text=[f"{v:.3g}×" for v in values], textposition="outside", cliponaxis=False,
                 hovertemplate="%{y}: %{x:.3g}× real time<extra></extra>", name="real-time factor")]
    layout = base_layout(f"Real-time factor at {fps:g} fps (under 1 keeps up with the video)",
                         x_title="time taken ÷ time the frames last (log scale)", height=height)
    positive = [v for v in values if v > 0] or [1.0]
    low, high = min(min(positive), 1.0) / 3, max(max(positive), 1.0) * 5
    layout["xaxis"].update(type="log", range=[np.log10(low), np.log10(high)], dtick=1)
    layout["yaxis"].update(type="category", autorange="reversed")
    layout["margin"] = dict(l=150, r=30, t=60, b=50)
    layout["shapes"] = [dict(type="line", x0=1, x1=1, y0=0, y1=1, yref="paper", line=dict(color=LIGHT_GREY, width=2))]
    layout["showlegend"] = False
    return go.Figure(data=data, layout=layout)
