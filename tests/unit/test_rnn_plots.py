"""The recurrent-network figure builders, checked through fig.to_dict()."""

import numpy as np
import pandas as pd

from seqviz.plots import recurrent as plots
from seqviz.plots.common import figure_to_frame


def test_training_curves_overlay_train_and_validation_per_model():
    rows = [{"step": s, "train_loss": 1 / s, "train_accuracy": 0.5, "val_loss": 2 / s,
             "val_accuracy": 0.6} for s in (25, 50)]
    fig = plots.training_curves({"lstm": rows, "tcn": rows}, "t").to_dict()
    names = [trace["name"] for trace in fig["data"]]
    assert names.count("LSTM val") == 2 and names.count("TCN train") == 2  # loss and accuracy panels
    assert len(fig["data"]) == 8


def test_gradient_norms_use_a_log_axis_and_hide_underflow():
    fig = plots.gradient_norms({"rnn-tanh": np.array([0.0, 1e-30, 1.0]), "tcn": np.ones(3)}, 3)
    data = fig.to_dict()
    assert data["layout"]["yaxis"]["type"] == "log"
    shown = np.asarray(fig.data[0].y)  # to_dict() packs numpy arrays as binary
    assert np.isnan(shown[0]) and shown[1] == 1e-30
    assert data["data"][1]["name"] == "TCN (dL/dx_t)"


def test_heatmap_labels_time_with_the_input_symbols_and_exports_csv():
    fig = plots.state_heatmap(np.arange(6.0).reshape(2, 3) - 2, np.array([0, 2, 4]), "h")
    data = fig.to_dict()
    assert list(data["layout"]["xaxis"]["ticktext"]) == ["·<br>0", "2<br>1", "?<br>2"]
    assert data["data"][0]["zmin"] == -3 and data["data"][0]["zmax"] == 3
    assert len(figure_to_frame(fig)) == 6


def test_eigenvalues_and_capacity_figures():
    fig = plots.eigenvalue_plot({"rnn-tanh": np.array([0.5 + 0.5j, 1.2])})
    assert fig.to_dict()["data"][0]["name"] == "unit circle"
    assert list(fig.data[1].y) == [0.5, 0.0]
    sweep = pd.DataFrame({"kind": ["lstm"] * 2 + ["rnn-tanh"] * 2, "hidden": [4, 4, 8, 8],
                          "length": [5, 10, 5, 10], "val_accuracy": [1, 0.5, 1, 0.4]})
    fig = plots.capacity_curves(sweep, "c").to_dict()
    assert [t["name"] for t in fig["data"]] == ["LSTM H=4", "RNN (tanh) H=8"]
    assert list(fig["layout"]["xaxis"]["tickvals"]) == [5, 10]
