"""Every chart of every page (every tab too) offers PNG, SVG and CSV downloads, and its CSV holds
exactly the numbers and labels the chart plots; every computed picture offers its PNG.

The chart is rebuilt from the JSON the page sent to the browser, so the typed arrays plotly
writes there ({"dtype", "bdata", "shape"}) are read as well; the expected values are decoded here
independently of seqviz.plots.common."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pandas as pd
import PIL.Image
import plotly.graph_objects as go
import pytest

from seqviz.plots.common import figure_to_frame, trace_labels
from seqviz.ui import registry
from tests.apptest_helpers import assert_clean, open_page

TABBED = {"pages/predictive_vit.py": "vit_tab", "pages/video_captioning.py": "cap_tab"}
# measures every shipped variant on the held-out games when opened: minutes on a shared CPU;
# its bar + box chart is checked in tests/unit/test_chart_export.py
SLOW_TABS = {"Ablations"}


def _decode(values):
    """A trace attribute from the browser's JSON: a list, or plotly's typed array."""
    if values is None:
        return None
    if isinstance(values, dict):
        array = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        return array.reshape([int(s) for s in str(values["shape"]).split(",")]) if "shape" in values else array
    return np.asarray(values, dtype=object)


def _default_positions(trace: dict, axis: str, count: int) -> np.ndarray:
    return trace.get(f"{axis}0", 0) + trace.get(f"d{axis}", 1) * np.arange(count)


def _expected(trace: dict) -> dict[str, np.ndarray]:
    """The values the trace plots, column by column, straight from its JSON."""
    kind = trace.get("type", "scatter")
    if kind == "image":
        if trace.get("z") is not None:
            pixels = _decode(trace["z"])
        else:
            payload = trace["source"].split(",", 1)[1]
            picture = PIL.Image.open(io.BytesIO(base64.b64decode(payload)))
            pixels = np.asarray(picture.convert("RGBA" if picture.mode in ("RGBA", "LA", "P") else "RGB"))
        rows, cols = np.indices(pixels.shape[:2])
        out = {"x": _default_positions(trace, "x", pixels.shape[1])[cols.ravel()],
               "y": _default_positions(trace, "y", pixels.shape[0])[rows.ravel()]}
        for channel, letter in enumerate("rgba"[:pixels.shape[-1]]):
            out[letter] = pixels[..., channel].ravel()
        return out
    if trace.get("z") is not None:
        z = np.asarray(_decode(trace["z"]).tolist(), dtype=object)
        rows, cols = np.indices(z.shape)
        x = _decode(trace.get("x"))
        y = _decode(trace.get("y"))
        x = _default_positions(trace, "x", z.shape[1]) if x is None else x
        y = _default_positions(trace, "y", z.shape[0]) if y is None else y
        return {"x": np.asarray(x)[cols.ravel()], "y": np.asarray(y)[rows.ravel()], "z": z.ravel()}
    y = _decode(trace.get("y"))
    x = _decode(trace.get("x"))
    if x is None:
        x = np.full(len(y), trace["name"]) if kind == "box" else _default_positions(trace, "x", len(y))
    count = min(len(x), len(y))
    out = {"x": x[:count], "y": y[:count]}
    for axis in ("x", "y"):
        error = trace.get(f"error_{axis}") or {}
        if error.get("array") is not None and error.get("visible", True):
            out[f"error_{axis}"] = _decode(error["array"])[:count]
    return out


def _same(shown: pd.Series, plotted: np.ndarray) -> bool:
    """CSV text equals the plotted values: numbers to the last bit (NaN as an empty cell),
    labels as written."""
    plotted = np.asarray(plotted).ravel()
    if len(shown) != len(plotted):
        return False
    if plotted.dtype.kind == "O":
        try:
            plotted = np.asarray([np.nan if v is None else v for v in plotted], dtype=float)
        except (TypeError, ValueError):                    # labels
            return shown.tolist() == [str(v) for v in plotted]
    try:
        numbers = np.asarray([text or "nan" for text in shown], dtype=float)
    except ValueError:                                     # a label where a number is plotted
        return False
    return bool(np.array_equal(numbers, plotted.astype(float), equal_nan=True))


def check_chart(spec: dict) -> int:
    """The CSV of the chart's figure against every trace's plotted values; returns the traces checked."""
    fig = go.Figure(spec)
    table = pd.read_csv(io.StringIO(figure_to_frame(fig).to_csv(index=False)), dtype=str, keep_default_na=False)
    checked = 0
    for label, trace in zip(trace_labels(fig), spec["data"]):
        rows = table[table.trace == label]
        for column, plotted in _expected(trace).items():
            assert column in rows, (label, column, list(table.columns))
            assert _same(rows[column], plotted), (spec["layout"].get("title"), label, column)
        checked += 1
    if len({(t.get("xaxis", "x"), t.get("yaxis", "y")) for t in spec["data"]}) > 1:
        assert "subplot" in table and (table.subplot != "").all()
    return checked


def _pages_and_tabs():
    for path in [registry.HOME.path] + [topic.path for topic in registry.TOPICS]:
        at = open_page(path)
        assert_clean(at)
        yield path, at
        key = TABBED.get(path)
        if key:
            for tab in [t.label for t in at.tabs][1:]:
                if tab in SLOW_TABS:
                    continue
                at.session_state[key] = tab
                at.run()
                assert_clean(at)
                yield f"{path} [{tab}]", at


def _download_keys(at) -> set[str]:
    return {button.proto.id.split("-", 2)[-1] for button in at.get("download_button")}


def test_every_chart_downloads_and_its_csv_holds_the_plotted_numbers():
    charts = traces = pictures = 0
    for where, at in _pages_and_tabs():
        downloads = _download_keys(at)
        for chart in at.get("plotly_chart"):
            key = chart.proto.id.split("-", 2)[-1]
            assert {f"{key}_png", f"{key}_svg", f"{key}_csv"} <= downloads, (where, key)
            traces += check_chart(json.loads(chart.proto.spec))
            charts += 1
        pictures += len(at.get("image"))
        assert len(_picture_keys(at)) == len(at.get("image")), where
    assert charts >= 30 and traces >= charts and pictures >= 5


def _picture_keys(at) -> list[str]:
    """The PNG downloads that are not a chart's."""
    charts = {f"{c.proto.id.split('-', 2)[-1]}_png" for c in at.get("plotly_chart")}
    return sorted(k for k in _download_keys(at) if k.endswith("_png") and k not in charts)


@pytest.mark.parametrize("path,count", [("pages/permutation.py", 4), ("pages/video_captioning.py", 1)])
def test_every_computed_picture_has_a_png_download(path, count):
    at = open_page(path)
    assert_clean(at)
    assert len(at.get("image")) == count
    assert len(_picture_keys(at)) == count, _picture_keys(at)
