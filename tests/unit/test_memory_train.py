"""Training on the memory task, NaN handling, shipped checkpoints and the probe."""

import json
import math

import pytest
import torch

from seqviz.core import train
from seqviz.recurrent import probe
from seqviz.recurrent import train as mt
from seqviz.recurrent.tasks import memory_task


@pytest.mark.parametrize("kind", ["lstm", "tcn"])
def test_short_memory_task_is_learned_quickly(kind):
    config = mt.MemoryConfig(kind=kind, length=8, hidden=16, steps=150, lr=0.02, eval_every=50)
    model, history = mt.train_memory_model(config)
    assert [row["step"] for row in history] == [50, 100, 150]
    assert history[-1]["val_accuracy"] >= 0.95


def test_progress_and_stop_flag():
    seen = []
    config = mt.MemoryConfig(kind="rnn-tanh", length=6, hidden=8, steps=50, eval_every=5)
    _, history = mt.train_memory_model(config, on_progress=seen.append,
                                       should_stop=lambda: len(seen) >= 7)
    assert len(seen) == 7 and history[-1]["step"] == 5


def test_nan_learning_rate_stops_and_keeps_the_last_good_weights():
    config = mt.MemoryConfig(kind="rnn-relu", length=20, hidden=32, steps=20, lr=10.0)
    model = mt.build_model("rnn-relu", 32, 20)
    with pytest.raises(train.NonFiniteLoss):
        mt.train_memory_model(config, model=model)
    assert all(torch.isfinite(p).all() for p in model.parameters())
    x, y = memory_task(16, 20, seed=1)
    assert math.isfinite(mt.evaluate(model, x, y)["loss"])


def test_memory_estimate_refuses_huge_configurations():
    assert mt.training_memory_bytes("lstm", 64, 20, 32) < 2**20 * 10
    assert mt.training_memory_bytes("lstm", 64, 1000, 512) > mt.MEMORY_BUDGET_BYTES


@pytest.mark.parametrize("task", ["memory", "memorygen"])
@pytest.mark.parametrize("kind", mt.SHIPPED_KINDS)
def test_shipped_checkpoints_load_and_match_their_metrics(task, kind):
    model, config, metrics = mt.load_shipped(task, kind)
    assert config.task == task and config.kind == kind
    x, y = memory_task(mt.VAL_SIZE, config.length, seed=config.seed,
                       generalize=config.generalize, split="val")
    assert mt.evaluate(model, x, y)["accuracy"] == pytest.approx(metrics["val_accuracy"], abs=1e-6)
    history = json.loads(mt.HISTORY_FILE.read_text())["histories"][task][kind]
    assert history[-1]["val_accuracy"] == pytest.approx(metrics["val_accuracy"])
    assert mt.checkpoint_path(task, kind).stat().st_size < 100_000
    if task == "memory":
        assert metrics["val_accuracy"] >= 0.99


def test_probe_reads_the_token_from_h_before_the_output_shows_it():
    model, _, _ = mt.load_shipped("memory", "lstm")
    result = probe.probe_accuracy(model, 20, 4, seed=0)
    assert result.hidden[:4].max() < 0.5                 # before the token: chance
    assert result.hidden[5:].min() > 0.95                # after it: readable at every step
    assert result.output[:-1].max() < 0.05 and result.output[-1] > 0.95
    trace = probe.trace(model, memory_task(1, 20, seed=0)[0][0])
    assert trace.hidden.shape == (32, 20) and trace.probabilities.shape == (4, 20)
    assert set(trace.gates) == {"input", "forget", "candidate", "output"}
