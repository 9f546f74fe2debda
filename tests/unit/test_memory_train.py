"""Training on the memory task (through the fused twin, seeded), NaN handling, shipped checkpoints, the probe."""

import dataclasses
import json
import math
import threading

import numpy as np
import pytest
import torch

from seqviz.core import memory, train
from seqviz.recurrent import fused, probe
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
    huge = memory.check(mt.training_memory_bytes("gru", 64, 1000, 512), "cpu", "training")
    assert not huge.fits and "exceeds" in huge.message
    assert memory.check(mt.training_memory_bytes("lstm", 64, 20, 32), "cpu", "training").fits


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


def _train_scratch(config: mt.MemoryConfig) -> tuple[torch.nn.Module, list[float]]:
    """The reference: train the from-scratch model itself (autograd through its loop over
    time), with the same batches, Adam and clipping as train_memory_model."""
    model = mt.build_model(config.kind, config.hidden, config.length, seed=config.seed).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    losses = []
    for i in range(config.steps):
        x, y = memory_task(config.batch, config.length, seed=config.seed * 100_003 + i + 1,
                           generalize=config.generalize, split="train")
        total, final, _ = mt._losses(model, x, y)
        optimizer.zero_grad()
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimizer.step()
        losses.append(float(final.detach()))
    return model.eval(), losses


@pytest.mark.parametrize("kind", ["rnn-tanh", "rnn-relu", "lstm", "gru", "tcn"])
def test_training_through_the_fused_twin_trains_the_scratch_model(kind):
    config = mt.MemoryConfig(kind=kind, length=12, hidden=16, steps=12, eval_every=1, seed=5)
    trained, history = mt.train_memory_model(config)
    reference, losses = _train_scratch(config)
    # every step's loss is the same through either path ...
    np.testing.assert_allclose([row["train_loss"] for row in history], losses, rtol=2e-4, atol=1e-6)
    # ... and so are the weights it ends with, in the scratch model that is returned
    for (name, mine), theirs in zip(trained.state_dict().items(), reference.state_dict().values()):
        torch.testing.assert_close(mine, theirs, atol=2e-5, rtol=2e-4, msg=name)
    x, _ = memory_task(32, 12, seed=9, split="test")
    twin = fused.fused_twin(trained)
    torch.testing.assert_close(twin(x).outputs, trained(x).outputs, atol=1e-5, rtol=1e-5)


def test_training_is_seeded_by_the_config_alone():
    config = mt.MemoryConfig(kind="gru", length=10, hidden=8, steps=15, eval_every=5, seed=3)
    first, history = mt.train_memory_model(config)
    torch.manual_seed(1234)  # the global generator plays no part
    second, again = mt.train_memory_model(config)
    assert history == again
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    other, _ = mt.train_memory_model(dataclasses.replace(config, seed=4))
    assert not torch.equal(first.cell.W_hh.weight, other.cell.W_hh.weight)


def test_the_same_seeded_training_in_two_threads_at_once_equals_one_after_the_other():
    configs = [mt.MemoryConfig(kind=kind, length=10, hidden=16, steps=25, eval_every=5, seed=seed)
               for kind, seed in (("lstm", 1), ("tcn", 2), ("rnn-tanh", 3), ("gru", 4))]

    def run(config):
        model, history = mt.train_memory_model(config)
        return history, [p.detach().clone() for p in model.parameters()]

    one_by_one = [run(config) for config in configs]
    results: dict[int, list] = {}

    def worker(index):
        order = list(range(len(configs)))[index:] + list(range(len(configs)))[:index]
        results[index] = {k: run(configs[k]) for k in order}

    threads = [threading.Thread(target=worker, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert set(results) == {0, 1}
    for got in results.values():
        for k, (history, weights) in got.items():
            assert history == one_by_one[k][0]
            assert all(torch.equal(a, b) for a, b in zip(weights, one_by_one[k][1]))
