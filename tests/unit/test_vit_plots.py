"""Figure builders of the predictive ViT page (seqviz.plots.vit), through fig.to_dict()."""

import base64
import inspect
import io
import re

import numpy as np
import PIL.Image

from seqviz.plots import palette
from seqviz.plots import vit as plots
from seqviz.plots.common import figure_to_frame


def test_video_animation_has_one_frame_per_video_frame_and_a_play_button():
    frames = np.random.default_rng(0).integers(0, 255, (6, 8, 8, 3), dtype=np.uint8)
    figure = plots.video_animation(frames, "clip")
    source = figure.frames[3].data[0].source
    assert source.startswith("data:image/png;base64,")
    decoded = np.asarray(PIL.Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))))
    assert np.array_equal(decoded, frames[3])                                   # lossless
    fig = figure.to_dict()
    assert len(fig["frames"]) == 6
    assert fig["layout"]["updatemenus"][0]["buttons"][0]["label"].endswith("Play")
    assert len(fig["layout"]["sliders"][0]["steps"]) == 6


def test_image_panels_draw_rgb_as_images_and_error_maps_as_heatmaps():
    fig = plots.image_panels([("truth", np.ones((4, 4, 3))), ("|error|", np.zeros((4, 4)))], "t")
    kinds = [trace.type for trace in fig.data]
    assert kinds == ["image", "image"]
    assert np.asarray(fig.data[0].z).max() == 255
    assert np.array_equal(np.asarray(fig.data[1].z)[0, 0], [0, 0, 4])          # Inferno's black
    assert np.array_equal(np.asarray(fig.data[1].customdata), np.zeros((4, 4)))


def test_attention_overlay_and_curves():
    weights = np.full((2, 4, 4), 1 / 32)
    fig = plots.attention_overlay(np.zeros((2, 16, 16, 3), np.uint8), weights, (1, 2), 4, "attn")
    cells = [np.asarray(t.customdata) for t in fig.data]
    assert len(cells) == 2 and np.isclose(sum(c.sum() for c in cells), 16.0)  # 4x4 pixels per patch
    assert len(fig.layout.shapes) == 2 and fig.layout.shapes[0].x0 == 7.5
    curves = plots.metric_curves(np.arange(3, 6), {"model": (np.ones(3), np.ones(3))}, marker=4)
    assert len(figure_to_frame(curves)) == 6
    loss = plots.loss_curves({"a": [1.0, 0.5], "b": [2.0]})
    assert loss.layout.yaxis.type == "log" and len(loss.data) == 2


def test_moving_average_of_the_loss():
    np.testing.assert_allclose(plots.moving_average([1, 3, 5, 7], 2), [1, 2, 4, 6])
    assert plots.moving_average([], 5).size == 0


def test_colours_come_from_the_palette():
    curves = plots.metric_curves(np.arange(3), {"model": (np.ones(3), np.ones(3)),
                                                "copy last frame": (np.ones(3), np.ones(3))},
                                 marker=1, baseline="copy last frame")
    colours = {trace.name: trace.line.color for trace in curves.data}
    assert colours["copy last frame PSNR"] == palette.GREY and colours["model PSNR"] == palette.categorical(0)
    assert curves.layout.shapes[0].line.color == palette.GREY
    overlay = plots.attention_overlay(np.zeros((1, 8, 8, 3), np.uint8), np.full((1, 2, 2), 0.25), (0, 1), 4, "a")
    assert overlay.layout.shapes[0].line.color == palette.VERMILLION
    source = inspect.getsource(plots)
    literal = re.findall(r"#[0-9a-fA-F]{6}\b|rgba?\(|color=\"[a-z]+\"", source)
    assert literal == []


def test_the_ratio_chart_draws_each_seed_and_the_mean_with_copying_at_one():
    ratios = {"entering": {"Full": [0.3, 0.35, 0.4], "No self-attention": [1.0, 0.98, 1.02]},
              "rest": {"Full": [0.6, 0.62, 0.64], "No self-attention": [0.9, 0.91, 0.95]}}
    fig = plots.ratio_chart(ratios, target=0.5)
    bars = [t for t in fig.data if t.type == "bar"]
    points = [t for t in fig.data if t.type == "box"]
    assert [list(b.x) for b in bars] == [["Full", "No self-attention"]] * 2
    np.testing.assert_allclose(bars[0].y, [0.35, 1.0])
    np.testing.assert_allclose(points[1].y, [0.6, 0.62, 0.64, 0.9, 0.91, 0.95])
    assert bars[0].marker.color == points[0].marker.color == palette.categorical(0)
    assert sorted(shape.y0 for shape in fig.layout.shapes) == [0.5, 1.0]
