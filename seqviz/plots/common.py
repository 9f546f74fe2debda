"""Helpers shared by the figure builders: a house style and figure -> table."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pandas as pd
import PIL.Image
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
        legend=dict(LEGEND),
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


def plotted_array(values: Any) -> np.ndarray | None:
    """A trace attribute as an array, as plotly stores it: a list or tuple, a numpy array, or
    the typed-array form {"dtype", "bdata"[, "shape"]} of to_dict()/JSON; numbers come back as
    int64 or float64 (None as NaN), anything else (category labels) as objects."""
    if values is None:
        return None
    if isinstance(values, dict) and "bdata" in values:
        array = np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
        if values.get("shape") is not None:
            array = array.reshape([int(size) for size in str(values["shape"]).split(",")])
    else:
        array = np.asarray(values)
        if array.dtype == object:
            try:
                numbers = np.asarray([np.nan if v is None else v for v in array.ravel()])
            except ValueError:  # ragged
                return array
            if numbers.dtype.kind in "biuf":
                array = numbers.reshape(array.shape)
    if array.dtype.kind in "biu":
        return array.astype(np.int64)
    if array.dtype.kind == "f":
        return array.astype(np.float64)   # exact: a float32's value printed as float64 reads back equal
    return array.astype(object)


def trace_labels(fig: go.Figure) -> list[str]:
    """Each trace's name, made unique (" (2)", " (3)" for repeats; "trace i" when unnamed)."""
    labels, seen = [], {}
    for index, trace in enumerate(fig.data):
        name = trace.name or f"trace {index + 1}"
        seen[name] = seen.get(name, 0) + 1
        labels.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return labels


def _axis_refs(trace: Any) -> tuple[str, str]:
    return getattr(trace, "xaxis", None) or "x", getattr(trace, "yaxis", None) or "y"


def subplot_names(fig: go.Figure) -> dict[tuple[str, str], str]:
    """(xaxis, yaxis) -> the subplot's title where an annotation sits centred on top of it
    (as make_subplots writes subplot titles), else "x2/y2"."""
    names = {}
    for trace in fig.data:
        x_ref, y_ref = _axis_refs(trace)
        names[(x_ref, y_ref)] = f"{x_ref}/{y_ref}"
        x_axis = fig.layout[f"xaxis{x_ref[1:]}"]
        y_axis = fig.layout[f"yaxis{y_ref[1:]}"]
        x_domain = x_axis.domain or (0.0, 1.0)
        y_domain = y_axis.domain or (0.0, 1.0)
        for note in fig.layout.annotations:
            if (note.xref == "paper" and note.yref == "paper" and note.text and note.x is not None
                    and note.y is not None and abs(note.x - sum(x_domain) / 2) < 1e-6
                    and abs(note.y - y_domain[1]) < 1e-6):
                names[(x_ref, y_ref)] = str(note.text)
    return names


def _positions(trace: Any, axis: str, count: int) -> np.ndarray:
    """Where plotly puts `count` points that have no coordinates on `axis`: start + step * i."""
    start = getattr(trace, f"{axis}0", None)
    step = getattr(trace, f"d{axis}", None)
    start = 0 if start is None else start
    step = 1 if step is None else step
    return start + step * np.arange(count)


def _image_pixels(trace: Any) -> tuple[np.ndarray, str]:
    """An image trace's pixels (H, W, C) and its colour model: z, or its PNG source decoded."""
    z = plotted_array(trace.z)
    if z is not None:
        model = trace.colormodel or ("rgba" if z.shape[-1] == 4 else "rgb")
        return z, model
    header, _, payload = str(trace.source).partition(",")
    picture = PIL.Image.open(io.BytesIO(base64.b64decode(payload)))
    model = "rgba" if picture.mode in ("RGBA", "LA", "P") else "rgb"
    return np.asarray(picture.convert(model.upper())).astype(np.int64), model


def _trace_table(trace: Any) -> dict[str, np.ndarray] | None:
    """The plotted numbers of one trace as equal-length columns (None: nothing plotted)."""
    kind = trace.type
    extra = plotted_array(getattr(trace, "customdata", None))
    if kind == "image":
        pixels, model = _image_pixels(trace)
        rows, cols = np.indices(pixels.shape[:2])
        table = {"x": _positions(trace, "x", pixels.shape[1])[cols.ravel()],
                 "y": _positions(trace, "y", pixels.shape[0])[rows.ravel()]}
        for channel, letter in enumerate(model[:pixels.shape[-1]]):
            table[letter] = pixels[..., channel].ravel()
    elif getattr(trace, "z", None) is not None:                       # heatmap, contour
        z = np.atleast_2d(plotted_array(trace.z))                    # (rows, columns)
        rows, cols = np.indices(z.shape)
        x = plotted_array(trace.x)
        y = plotted_array(trace.y)
        x = _positions(trace, "x", z.shape[1]) if x is None else x
        y = _positions(trace, "y", z.shape[0]) if y is None else y
        table = {"x": x[cols.ravel()], "y": y[rows.ravel()], "z": z.ravel()}
    else:                                                             # scatter, bar, box, histogram
        x, y = plotted_array(trace.x), plotted_array(trace.y)
        if x is None and y is None:
            return None
        if x is None:
            x = (np.full(len(y), trace.name, dtype=object) if kind == "box" and trace.name is not None
                 else _positions(trace, "x", len(y)))
        if y is None:
            y = (np.full(len(x), np.nan) if kind != "box" or trace.name is None
                 else np.full(len(x), trace.name, dtype=object))
        count = min(len(x), len(y))                                   # plotly draws the shorter length
        table = {"x": x[:count], "y": y[:count]}
        for axis in ("x", "y"):
            error = getattr(trace, f"error_{axis}", None)
            if error is not None and error.array is not None and error.visible is not False:
                table[f"error_{axis}"] = _fit(plotted_array(error.array), count)
                if error.symmetric is False and error.arrayminus is not None:
                    table[f"error_{axis} minus"] = _fit(plotted_array(error.arrayminus), count)
    length = len(table["x"])
    if extra is not None and extra.dtype.kind in "if" and extra.size == length:
        table["hover value"] = extra.ravel()
    return table


def _fit(values: np.ndarray, count: int) -> np.ndarray:
    """`values` cut or padded with NaN to `count` entries."""
    out = np.full(count, np.nan)
    values = np.asarray(values, dtype=float).ravel()[:count]
    out[:len(values)] = values
    return out


def figure_to_frame(fig: go.Figure) -> pd.DataFrame:
    """The numbers a figure plots as one long table for a CSV download: a row per point (per
    cell of a heatmap, per pixel of an image), with the trace's name, its subplot where the
    figure has several, x and y, and z (heatmaps), r/g/b[/a] (images), error bars and a
    numeric hover value where the trace has them. Numbers are exactly the plotted ones."""
    labels = trace_labels(fig)
    subplots = subplot_names(fig)
    several = len(subplots) > 1
    frames = []
    for label, trace in zip(labels, fig.data):
        table = _trace_table(trace)
        if table is None:
            continue
        columns = {"trace": label}
        if several:
            columns["subplot"] = subplots[_axis_refs(trace)]
        frames.append(pd.DataFrame({**columns, **table}))
    if not frames:
        return pd.DataFrame(columns=["trace", "x", "y"])
    return pd.concat(frames, ignore_index=True)


PROJECTOR_FONT = 18      # px: the smallest chart text in presentation mode
PROJECTOR_TITLE = 24
PROJECTOR_LINE = 4       # px: the thinnest line
PROJECTOR_MARKER = 10
PROJECTOR_HEIGHT = 1.3   # charts grow with their text
PROJECTOR_CHART_WIDTH = 900   # px a heatmap is assumed to span at most (half a projector's width)
CELL_TEXT_CHARACTERS = 6      # a cell's number ("0.0625") as written, at about 0.6 em per character


def _font(spec: dict | None, size: int) -> dict:
    spec = dict(spec or {})
    spec["size"] = max(size, spec.get("size") or 0)
    return spec


def heatmap_cell_px(rows: int, layout: dict) -> float:
    """The height of one of a heatmap's `rows` in pixels, from the figure's height and margins
    (its width depends on the screen, so the height is what a builder can know)."""
    rows = max(1, rows)
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
    for index, trace in enumerate(spec.get("data", [])):
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
            rows, columns = np.shape(fig.data[index].z) if np.ndim(fig.data[index].z) == 2 else (1, 1)
            if (heatmap_cell_px(rows, layout) < 1.6 * PROJECTOR_FONT
                    or PROJECTOR_CHART_WIDTH / columns < CELL_TEXT_CHARACTERS * 0.6 * PROJECTOR_FONT):
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
