"""Figure builders of the Attention section, checked through fig.to_dict()."""

import numpy as np
import pytest

from seqviz.attention import attention, conv
from seqviz.attention import cost as attention_cost
from seqviz.plots import palette
from seqviz.plots.attention import attention as plots
from seqviz.plots.attention.conv import receptive_field_picture
from seqviz.plots.common import figure_to_frame


def test_matrix_heatmap_writes_every_value_with_row_zero_on_top():
    figure = plots.matrix_heatmap(np.array([[1.0, 2.5], [3.0, 4.0]]), "M", row_labels=["a", "b"],
                                  col_labels=["x", "y"])
    fig = figure.to_dict()
    trace = fig["data"][0]
    assert trace["type"] == "heatmap" and "%{z" in trace["texttemplate"]
    assert np.asarray(figure.data[0].z).tolist() == [[1.0, 2.5], [3.0, 4.0]]
    assert list(trace["y"]) == ["a", "b"] and fig["layout"]["yaxis"]["autorange"] == "reversed"
    assert fig["layout"]["title"]["text"] == "M"
    assert trace["zmid"] == 0.0  # a matrix is on the signed scale, white at 0


def test_heatmaps_use_the_palettes_scales():
    def scale_name(figure):
        return [s[1] for s in figure.to_dict()["data"][0]["colorscale"]]

    def named(name):
        import plotly.graph_objects as go
        return [s[1] for s in go.Heatmap(colorscale=name).to_plotly_json()["colorscale"]]

    _, weights = attention.scaled_dot_product(attention.WORKED_Q, attention.WORKED_K, attention.WORKED_V)
    labels = dict(query_labels=list("abcde"), key_labels=list("xyz"))
    assert scale_name(plots.weights_heatmap(weights, "w", **labels)) == named(palette.WEIGHTS_SCALE)
    assert scale_name(plots.weights_heatmap(weights, "w", normalised=None, **labels)) == named(palette.SIGNED_SCALE)
    assert scale_name(plots.matrix_heatmap(weights, "m")) == named(palette.SIGNED_SCALE)
    fixed = plots.matrix_heatmap(weights, "m", colorscale=palette.WEIGHTS_SCALE, zmin=0, zmax=1).to_dict()
    assert "zmid" not in fixed["data"][0]


def test_weights_heatmap_shows_row_sums_and_column_sums_when_normalised_down_columns():
    _, weights = attention.scaled_dot_product(attention.WORKED_Q, attention.WORKED_K,
                                              attention.WORKED_V)
    fig = plots.weights_heatmap(weights, "w", query_labels=list("abcde"), key_labels=list("xyz"))
    assert all(label.endswith("Σ=1") for label in fig.data[0].y)
    _, wrong = attention.scaled_dot_product(attention.WORKED_Q, attention.WORKED_K,
                                            attention.WORKED_V, normalise_over="queries")
    fig = plots.weights_heatmap(wrong, "w", query_labels=list("abcde"), key_labels=list("xyz"),
                                normalised="queries")
    assert all(label.endswith("Σ=1") for label in fig.data[0].x)
    assert not all(label.endswith("Σ=1") for label in fig.data[0].y)


def test_heads_heatmaps_draws_one_panel_per_head_and_exports_them():
    _, weights = attention.multi_head_weights(attention.WORKED_Q, attention.WORKED_K,
                                              attention.WORKED_V, 4)
    fig = plots.heads_heatmaps(weights, query_labels=list("abcde"), key_labels=list("xyz"))
    layout = fig.to_dict()["layout"]
    assert len(fig.data) == 4 and [a["text"] for a in layout["annotations"]] == [
        "head 1", "head 2", "head 3", "head 4"]
    domains = [layout[f"xaxis{'' if h == 0 else h + 1}"]["domain"] for h in range(4)]
    assert all(a[1] < b[0] for a, b in zip(domains, domains[1:]))  # side by side, no overlap
    assert len(figure_to_frame(fig)) == 4 * 5 * 3


def test_identity_errors_and_token_gaps_use_log_axes():
    sweep = attention.identity_sweep([0.0, 10.0, 40.0], np.eye(3))
    figure = plots.identity_errors(sweep, 10.0)
    assert np.array_equal(figure.data[0].y, np.maximum(sweep.weight_error, 1e-16))
    fig = figure.to_dict()
    assert fig["layout"]["yaxis"]["type"] == "log" and len(fig["data"]) == 2
    assert fig["layout"]["shapes"][0]["x0"] == 10.0
    gaps = plots.token_gaps({"none": np.zeros(4), "learned": np.ones(4)})
    assert gaps.to_dict()["layout"]["yaxis"]["type"] == "log"
    assert min(gaps.data[0].y) > 0  # zeros are floored for the log axis
    assert [t.marker.color for t in gaps.data] == [palette.categorical(0), palette.categorical(1)]


def test_cost_loglog_anchors_theory_at_the_largest_measured_point():
    sides = np.array([8, 16, 32])
    times = {"attention": np.array([1.0, 16.0, np.nan]), "convolution": np.array([1.0, 4.0, 16.0])}
    flops = np.array([attention_cost.theory_flops(s, 16, 3) for s in sides])
    fig = plots.cost_loglog(sides**2, times, {"attention": 2.0, "convolution": float("nan")},
                            {"attention": flops[:, 0], "convolution": flops[:, 1]})
    by_name = {t.name: t for t in fig.data}
    attention_theory = next(t for n, t in by_name.items() if n.startswith("theory O(N² d)"))
    assert attention_theory.y[1] == pytest.approx(16.0) and attention_theory.y[0] == pytest.approx(1.0)
    assert "slope n/a" in " ".join(by_name)
    assert fig.layout.xaxis.type == "log" and list(fig.layout.xaxis.ticktext) == ["8²", "16²", "32²"]


def test_receptive_field_picture_draws_one_square_per_layer_in_both_panels():
    rows = conv.layer_table(128, conv.EXAMPLE_LAYERS)
    fig = receptive_field_picture(128, rows)
    names = [t.name for t in fig.data if t.showlegend is not False]
    assert names[0] == "input 128×128" and any("sees 23×23" in n for n in names)
    assert len(fig.data) == 2 * (1 + len(rows))
    biggest = next(t for t in fig.data if "sees 23×23" in t.name)
    assert max(biggest.x) - min(biggest.x) == 23
