"""The CSV of a chart holds exactly what it plots, for every trace type the app draws; a picture
shown with show_image downloads as the very PNG shown; a failed export never breaks a page."""

from __future__ import annotations

import io
import json

import numpy as np
import PIL.Image
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.subplots import make_subplots

from seqviz.plots import vit
from seqviz.plots.common import figure_to_frame, plotted_array

pytest.importorskip("streamlit")
from streamlit.runtime.memory_media_file_storage import _calculate_file_id  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from seqviz.ui import charts  # noqa: E402


def _through_json(fig: go.Figure) -> go.Figure:
    """The figure as the browser gets it: numpy arrays become typed arrays (bdata)."""
    return go.Figure(json.loads(pio.to_json(fig, validate=False)))


def test_float32_typed_arrays_keep_their_exact_values():
    y = np.array([0.1, 0.2, 1 / 3], dtype=np.float32)
    fig = _through_json(go.Figure(go.Scatter(x=np.arange(3), y=y, name="s")))
    assert isinstance(fig.data[0].y, dict) and "bdata" in fig.data[0].y
    csv = figure_to_frame(fig).to_csv(index=False)
    read = np.loadtxt(io.StringIO(csv), delimiter=",", skiprows=1, usecols=2)
    assert np.array_equal(read, y.astype(np.float64))


def test_subplots_name_the_subplot_each_trace_is_on():
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"))
    fig.add_trace(go.Scatter(x=[1, 2], y=[3.0, 2.0], name="model"), row=1, col=1)
    fig.add_trace(go.Scatter(x=[1, 2], y=[0.5, 0.7], name="model"), row=1, col=2)
    frame = figure_to_frame(_through_json(fig))
    assert frame.subplot.tolist() == ["loss", "loss", "accuracy", "accuracy"]
    assert frame.trace.tolist() == ["model", "model", "model (2)", "model (2)"]


def test_heatmap_labels_and_cells_and_missing_values():
    fig = go.Figure(go.Heatmap(z=[[1.5, None], [3, 4]], x=["a", "b"], y=["r", "s"], name="h"))
    frame = figure_to_frame(fig)
    assert frame.x.tolist() == ["a", "b", "a", "b"] and frame.y.tolist() == ["r", "r", "s", "s"]
    assert np.array_equal(frame.z.to_numpy(float), [1.5, np.nan, 3, 4], equal_nan=True)


def test_bars_and_boxes_with_category_x_and_error_bars():
    fig = vit.ratio_chart({"entering": {"model A": [0.5, 0.7], "model B": [0.9, 1.1]}}, target=0.5)
    frame = figure_to_frame(fig)
    bars = frame[frame.trace == "entering (mean)"]
    assert bars.x.tolist() == ["model A", "model B"] and bars.y.tolist() == pytest.approx([0.6, 1.0])
    seeds = frame[frame.trace == "entering (each seed)"]
    assert seeds.x.tolist() == ["model A", "model A", "model B", "model B"]
    assert seeds.y.tolist() == [0.5, 0.7, 0.9, 1.1]
    errors = figure_to_frame(go.Figure(go.Scatter(x=[1, 2], y=[3, 4], error_y=dict(array=[0.1, 0.2]))))
    assert errors.error_y.tolist() == [0.1, 0.2]


def test_image_panels_give_every_pixel_and_the_error_values():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    error = rng.random((4, 5))
    fig = _through_json(vit.image_panels([("truth", truth), ("|error|", error)], "t"))
    frame = figure_to_frame(fig)
    first = frame[frame.trace == "truth"]
    assert len(first) == 20 and first[["r", "g", "b"]].to_numpy().tolist() == truth.reshape(-1, 3).tolist()
    assert first.x.tolist()[:6] == [0, 1, 2, 3, 4, 0] and first.y.tolist()[:6] == [0, 0, 0, 0, 0, 1]
    second = frame[frame.trace == "|error|"]
    assert np.array_equal(second["hover value"].to_numpy(float), error.ravel())


def test_an_animation_frame_given_as_png_is_decoded_to_its_pixels():
    frames = np.random.default_rng(1).integers(0, 256, (2, 3, 4, 3), dtype=np.uint8)
    frame = figure_to_frame(vit.video_animation(frames, "clip"))
    assert frame[["r", "g", "b"]].to_numpy().tolist() == frames[0].reshape(-1, 3).tolist()


def test_plotted_array_reads_typed_arrays_with_a_shape():
    typed = {"dtype": "u1", "bdata": "AAECAwQF", "shape": "2, 3"}
    assert plotted_array(typed).tolist() == [[0, 1, 2], [3, 4, 5]]


def test_export_layout_fixes_the_size_and_drops_animation_controls():
    fig = vit.video_animation(np.zeros((2, 4, 4, 3), np.uint8), "clip", height=380)
    out = charts.export_layout(fig)
    assert (out.layout.width, out.layout.height) == (charts.EXPORT_WIDTH, charts.EXPORT_MIN_HEIGHT)
    assert not out.frames and not out.layout.updatemenus and not out.layout.sliders
    assert out.layout.title.automargin and out.layout.xaxis.automargin and out.layout.yaxis.automargin
    assert fig.frames and fig.layout.sliders  # the figure on the page is untouched


def test_a_failed_export_gives_an_empty_file_and_only_a_missing_chromium_turns_export_off(monkeypatch):
    calls = []

    def crash(fig, fmt, **_):
        calls.append(fmt)
        raise RuntimeError("Kaleido requires Google Chrome to be installed.")

    monkeypatch.setattr(charts, "export_image", crash)
    monkeypatch.setattr(charts, "_export_failed", [])
    assert charts._deferred_export(go.Figure(), "svg")() == b""
    assert calls == ["svg"] and not charts.export_available()
    monkeypatch.setattr(charts, "_export_failed", [])
    monkeypatch.setattr(charts, "export_image", lambda *a, **k: (_ for _ in ()).throw(ValueError("slow tab")))
    assert charts._deferred_export(go.Figure(), "png")() == b"" and charts._export_failed == []


def _page_without_chromium():
    import plotly.graph_objects as go

    from seqviz.ui import charts
    charts.export_available = lambda: False
    charts.show_chart(go.Figure(go.Bar(x=["a"], y=[1])), key="c", filename="c")


def test_without_chromium_the_page_says_so_and_still_offers_the_csv():
    at = AppTest.from_function(_page_without_chromium).run()
    assert not at.exception
    buttons = {b.proto.id.split("-", 2)[-1]: b for b in at.get("download_button")}
    assert set(buttons) == {"c_png", "c_svg", "c_csv"}
    assert buttons["c_png"].proto.disabled and buttons["c_svg"].proto.disabled and not buttons["c_csv"].proto.disabled
    assert charts.NO_CHROMIUM in [c.value for c in at.caption]


def test_to_png_encodes_exactly_the_pixels():
    picture = np.random.default_rng(2).random((6, 7, 3))
    decoded = np.asarray(PIL.Image.open(io.BytesIO(charts.to_png(picture))))
    assert decoded.tolist() == (np.clip(picture, 0, 1) * 255).round().astype(np.uint8).tolist()
    raw = np.zeros((3, 3, 3), np.uint8)
    assert charts.to_png(charts.to_png(raw)) == charts.to_png(raw)


def _page_with_a_picture():
    import numpy as np

    from seqviz.ui.charts import show_image
    show_image(np.linspace(0, 1, 48).reshape(4, 4, 3), key="pic", filename="picture", caption="a picture")


def test_show_image_offers_the_png_bytes_it_shows():
    at = AppTest.from_function(_page_with_a_picture).run()
    assert not at.exception
    png = charts.to_png(np.linspace(0, 1, 48).reshape(4, 4, 3))
    image, = at.get("image")
    button, = at.get("download_button")
    assert image.proto.imgs[0].caption == "a picture"
    assert image.proto.imgs[0].url.endswith(_calculate_file_id(png, "image/png") + ".png")
    assert button.proto.url.endswith(_calculate_file_id(png, "image/png", "picture.png") + ".png")
