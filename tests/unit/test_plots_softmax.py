"""Figure builders are pure: checked through fig.to_dict() and the CSV table."""

import numpy as np
import pytest

from seqviz.attention import softmax
from seqviz.plots.attention import softmax as plots
from seqviz.plots.common import figure_to_frame


def test_flattening_curves_carry_closed_form_and_torch_values():
    table = softmax.flattening_table([2, 10, 100], 1.0, "cpu")
    figure = plots.flattening_curves(table, 10)
    names = [t.name for t in figure.data]
    assert "pₕₒₜ closed form" in names and "pₕₒₜ torch.softmax" in names
    hot = next(t for t in figure.data if t.name == "pₕₒₜ torch.softmax")
    assert np.allclose(hot.y, [0.731059, 0.231969, 0.026724], atol=1e-6)
    fig = figure.to_dict()
    assert fig["layout"]["xaxis"]["type"] == "log" and fig["layout"]["yaxis"]["type"] == "log"


def test_output_bars_show_every_entry_or_a_summary():
    small = plots.output_bars(5, 0.4, 0.15).data[0]
    assert len(small.x) == 5 and small.y[0] == 0.4
    big = plots.output_bars(100000, 2.7e-5, 1e-5).data[0]
    assert len(big.x) == 3
    assert big.y[2] == pytest.approx(1e-5 * 99999)


def test_histograms_are_densities():
    stats = softmax.dot_product_stats(64, seed=0)
    fig = plots.dot_product_histograms(stats.raw_scores, stats.scaled_scores, 64)
    for trace in fig.data:
        assert np.sum(np.asarray(trace.y) * np.asarray(trace.width)) == pytest.approx(1.0)


def test_figure_to_frame_lists_every_point_of_every_trace():
    table = softmax.flattening_table([2, 10, 100], 1.0, "cpu")
    frame = figure_to_frame(plots.flattening_curves(table, 10))
    assert list(frame.columns) == ["trace", "x", "y"]
    hot = frame[frame.trace == "pₕₒₜ closed form"]
    assert hot.x.tolist() == [2, 10, 100]
    assert hot.y.iloc[1] == pytest.approx(0.231969, abs=1e-6)


def test_figure_to_frame_flattens_heatmaps():
    import plotly.graph_objects as go

    fig = go.Figure(go.Heatmap(z=[[1, 2], [3, 4]], x=["a", "b"], y=["r", "s"], name="h"))
    frame = figure_to_frame(fig)
    assert frame.z.tolist() == [1, 2, 3, 4]
    assert frame.x.tolist() == ["a", "b", "a", "b"] and frame.y.tolist() == ["r", "r", "s", "s"]
