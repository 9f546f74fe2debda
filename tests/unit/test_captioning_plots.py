"""Figure builders of the captioning page hold the numbers they are given (read through to_dict)."""

import numpy as np
import pytest

from seqviz.captioning.summary import FractionCurve, LatencyCurve, Spread
from seqviz.plots import captioning as plots
from seqviz.plots.common import figure_to_frame


def test_enlarge_repeats_each_pixel_into_a_square():
    frame = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    big = plots.enlarge(frame, 3)
    assert big.shape == (6, 6, 3)
    assert np.array_equal(big[0:3, 3:6], np.broadcast_to(frame[0, 1], (3, 3, 3)))


def test_attention_heatmap_holds_alpha_and_greys_the_frames_not_read():
    alpha = np.array([[0.6, 0.4, 0.0], [0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
    readable = np.array([[True, True, False], [True, True, True], [True, True, True]])
    figure = plots.attention_heatmap(alpha, ["the", "the"], "t", readable=readable, frame=1, chosen=2)
    fig = figure.to_dict()
    unread, weights = fig["data"]
    assert list(weights["y"]) == ["1 the", "2 the", "<eos>"]          # repeated words stay apart
    z = np.asarray(figure.data[1].z, dtype=float)
    assert np.isnan(z[0, 2]) and np.allclose(z[~np.isnan(z)], alpha[readable])
    marks = np.asarray(figure.data[0].z, dtype=float)
    assert marks[0, 2] == 1 and np.isnan(marks[readable]).all()
    assert weights["zmax"] == pytest.approx(0.8) and weights["zmin"] == 0
    line, box = fig["layout"]["shapes"]
    assert line["x0"] == line["x1"] == 1
    assert (box["y0"], box["y1"]) == (1.5, 2.5)
    plain = plots.attention_heatmap(alpha, ["a", "b"], "t").to_dict()
    assert len(plain["data"]) == 1 and not plain["layout"].get("shapes")


def test_top_frame_panels_title_each_frame_with_its_weight():
    frames = np.zeros((5, 4, 4, 3), np.uint8)
    frames[3] = 200
    figure = plots.top_frame_panels(frames, [(3, 0.625), (0, 0.25)], "w")
    titles = [a["text"].replace("<br>", " ") for a in figure.to_dict()["layout"]["annotations"]]
    assert titles == ["frame 3: α = 0.62", "frame 0: α = 0.25"]
    assert np.asarray(figure.data[0].z).max() == 200 and np.asarray(figure.data[1].z).max() == 0


def _spread(mean, low, high):
    return Spread(mean, low, high, 3)


def test_quality_by_fraction_draws_means_ranges_and_the_guessing_bar():
    curves = {"offline": FractionCurve("offline", (0.25, 1.0), (_spread(0.2, 0.1, 0.3), _spread(0.8, 0.7, 0.9))),
              "per-frame": FractionCurve("per-frame", (0.25, 1.0), (_spread(0.1, 0.1, 0.1), _spread(0.15, 0.1, 0.2)))}
    fig = plots.quality_by_fraction(curves, "order", percent=True, guess=0.4).to_dict()
    offline = fig["data"][0]
    assert offline["name"] == "offline" and list(offline["x"]) == [25, 100]
    assert list(offline["y"]) == pytest.approx([20, 80])
    assert list(offline["error_y"]["array"]) == pytest.approx([10, 10])
    assert list(offline["error_y"]["arrayminus"]) == pytest.approx([10, 10])
    assert offline["line"]["color"] == plots.CAPTIONER_COLORS["offline"]
    assert fig["layout"]["shapes"][0]["y0"] == pytest.approx(40)
    assert "guessing the order: 40 %" in fig["layout"]["annotations"][0]["text"]
    raw = plots.quality_by_fraction(curves, "CIDEr", percent=False).to_dict()
    assert list(raw["data"][1]["y"]) == pytest.approx([0.1, 0.15]) and "shapes" not in raw["layout"]
    table = figure_to_frame(plots.quality_by_fraction(curves, "order", percent=True))
    assert len(table) == 4


def test_quality_latency_puts_offline_at_the_end_and_marks_re_decoding_and_k():
    curve = LatencyCurve((1, 2, 4), (_spread(1.2, 1, 1.5), _spread(2.1, 2, 2.2), _spread(4, 4, 4)),
                         (_spread(0.3, 0.2, 0.4), _spread(0.5, 0.4, 0.6), _spread(0.7, 0.6, 0.8)))
    fig = plots.quality_latency(curve, "order", percent=True, offline=(24.0, _spread(0.9, 0.85, 0.95)),
                                redecode=(_spread(6.5, 6, 7), _spread(0.85, 0.8, 0.9)), chosen_k=2).to_dict()
    names = [t["name"] for t in fig["data"]]
    assert names == ["live, wait-k", "live, re-decode every frame", "offline (whole clip)", "your k = 2"]
    wait = fig["data"][0]
    assert list(wait["x"]) == pytest.approx([1.2, 2.1, 4]) and list(wait["y"]) == pytest.approx([30, 50, 70])
    assert list(wait["customdata"]) == [1, 2, 4]
    assert list(fig["data"][1]["x"]) == [6.5] and list(fig["data"][1]["y"]) == pytest.approx([85])
    assert list(fig["data"][2]["x"]) == [24.0] and list(fig["data"][2]["y"]) == pytest.approx([90])
    assert list(fig["data"][3]["x"]) == [2.1]
    alone = plots.quality_latency(curve, "BLEU-4", percent=False, chosen_k=3).to_dict()
    assert len(alone["data"]) == 1 and list(alone["data"][0]["y"]) == pytest.approx([0.3, 0.5, 0.7])


def test_real_time_chart_has_one_bar_per_model_and_the_line_at_one():
    fig = plots.real_time_chart({"live": 0.05, "offline": 2.5}, fps=30).to_dict()
    bar = fig["data"][0]
    assert list(bar["y"]) == ["live", "offline"] and list(bar["x"]) == [0.05, 2.5]
    assert list(bar["text"]) == ["0.05×", "2.5×"]
    assert fig["layout"]["shapes"][0]["x0"] == 1 and fig["layout"]["xaxis"]["type"] == "log"
    low, high = fig["layout"]["xaxis"]["range"]
    assert 10 ** low < 0.05 and 10 ** high > 2.5
