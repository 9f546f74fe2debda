"""The recurrent-network figure builders, checked through fig.to_dict()."""

import numpy as np
import pandas as pd
import pytest

from seqviz.plots import recurrent as plots
from seqviz.plots.common import figure_to_frame
from seqviz.recurrent.capacity import CapacityRow, summarise
from seqviz.recurrent.results import EvalPoint
from seqviz.recurrent.seeds import SeedRun
from seqviz.recurrent.spectrum import spectrum


def test_training_curves_overlay_train_and_validation_per_model():
    rows = [EvalPoint(s, 1 / s, 0.5, 2 / s, 0.6) for s in (25, 50)]
    fig = plots.training_curves({"lstm": rows, "tcn": rows}, "t", {"tcn": "this session"}).to_dict()
    names = [trace["name"] for trace in fig["data"]]
    assert names.count("LSTM val") == 2 and names.count("TCN (this session) train") == 2  # both panels
    assert len(fig["data"]) == 8


def test_gradient_norms_use_a_log_axis_and_hide_underflow():
    fig = plots.gradient_norms({"rnn-tanh": np.array([0.0, 1e-30, 1.0]), "tcn": np.ones(3)}, 3)
    data = fig.to_dict()
    assert data["layout"]["yaxis"]["type"] == "log"
    shown = np.asarray(fig.data[0].y)  # to_dict() packs numpy arrays as binary
    assert np.isnan(shown[0]) and shown[1] == 1e-30
    assert data["data"][1]["name"] == "TCN (‖∂L/∂xₜ‖)"


def test_heatmap_labels_time_with_the_input_symbols_and_exports_csv():
    fig = plots.state_heatmap(np.arange(6.0).reshape(2, 3) - 2, np.array([0, 2, 4]), "h")
    data = fig.to_dict()
    assert list(data["layout"]["xaxis"]["ticktext"]) == ["·<br>0", "2<br>1", "?<br>2"]
    assert data["data"][0]["zmin"] == -3 and data["data"][0]["zmax"] == 3
    assert len(figure_to_frame(fig)) == 6


def test_every_model_gets_its_own_eigenvalue_panel_with_its_sigma_max():
    spectra = {"rnn-tanh": spectrum(np.diag([0.5, 1.2])), "lstm": spectrum(np.array([[0.5, 3.0], [0.0, 0.5]]))}
    fig = plots.eigenvalue_plot(spectra)
    points = [t for t in fig.data if t.mode == "markers"]
    assert [t.name for t in points] == ["RNN (tanh) eigenvalues", "LSTM eigenvalues"]
    assert points[0].xaxis == "x" and points[1].xaxis == "x2"          # side by side, none hidden
    assert sorted(points[0].x) == [0.5, 1.2]
    titles = [a.text for a in fig.layout.annotations]
    assert "σₘₐₓ = 3.08" in titles[1] and "max |λ| = 0.5" in titles[1]
    sigma_circle = [t for t in fig.data if t.name == "radius σₘₐₓ" and t.xaxis == "x2"][0]
    assert max(sigma_circle.x) == pytest.approx(3.0811, abs=1e-3)


def test_gradient_norms_name_a_flagged_model_in_the_legend():
    fig = plots.gradient_norms({"rnn-relu": np.zeros(5), "lstm": np.ones(5)}, 5,
                               {"rnn-relu": "no gradient (exactly 0)"})
    assert fig.data[0].name == "RNN (ReLU): no gradient (exactly 0)"
    assert np.all(np.isnan(np.asarray(fig.data[0].y)))


def test_recall_capacity_and_seed_strip():
    rows = [CapacityRow("gru", h, k, s, 10, a, a, b, 0.1)
            for h in (2, 8) for k in (1, 2) for s, a, b in ((0, 1.0, 1.5), (1, 0.5, 0.5))]
    fig = plots.recall_capacity(summarise(rows), "r")
    lines = [t for t in fig.data if t.name == "GRU H=2"]
    assert len(lines) == 3                                             # three panels
    assert list(lines[0].y) == [0.75, 0.75] and list(lines[0].error_y.array) == [0.25, 0.25]
    assert any(t.name == "all shown: k·log₂3 bits" for t in fig.data)
    runs = [SeedRun("memorygen", "gru", s, 400, 1.0, v, 0.1, 1.0, v, 1.0) for s, v in enumerate((0.9, 0.7, 0.8))]
    strip = plots.seed_strip(runs, "memorygen", "val_accuracy")
    dots = strip.data[0]
    assert list(dots.y) == [0.9, 0.7, 0.8] and list(dots.marker.line.width) == [3, 0, 0]  # seed 0 ringed
    assert strip.data[1].y[0] == pytest.approx(0.8)


def test_capacity_figures():
    sweep = pd.DataFrame({"kind": ["lstm"] * 2 + ["rnn-tanh"] * 2, "hidden": [4, 4, 8, 8],
                          "length": [5, 10, 5, 10], "val_accuracy": [1, 0.5, 1, 0.4]})
    fig = plots.capacity_curves(sweep, "c").to_dict()
    assert [t["name"] for t in fig["data"]] == ["LSTM H=4", "RNN (tanh) H=8"]
    assert list(fig["layout"]["xaxis"]["tickvals"]) == [5, 10]
