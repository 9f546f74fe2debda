"""The UI-free training loop: progress, stop flag, non-finite losses, snapshots."""

import math

import pytest
import torch

from seqviz.core import train


def test_loop_reports_progress_and_returns_history():
    seen = []
    history = train.train_loop(lambda step: {"loss": 1.0 / (step + 1)}, 5,
                               on_progress=seen.append, report_every=2)
    assert [h["step"] for h in history] == [1, 2, 3, 4, 5]
    assert [p.step for p in seen] == [2, 4, 5]
    assert seen[-1].fraction == 1.0 and seen[-1].metrics["loss"] == pytest.approx(0.2)


def test_stop_flag_is_checked_before_every_step():
    calls = []
    history = train.train_loop(lambda step: calls.append(step) or {"loss": 0.0}, 100,
                               should_stop=lambda: len(calls) >= 3)
    assert len(history) == 3 and calls == [0, 1, 2]


def test_non_finite_loss_stops_and_snapshot_restores_weights():
    model = torch.nn.Linear(2, 1)
    good = train.snapshot(model)

    def step(i):
        with torch.no_grad():
            model.weight.fill_(float("nan"))
        return {"loss": math.nan}

    with pytest.raises(train.NonFiniteLoss) as error:
        train.train_loop(step, 10)
    assert error.value.step == 0 and "learning rate" in str(error.value)
    train.restore(model, good)
    assert torch.equal(model.weight, good["weight"])


def test_autocast_is_a_no_op_on_cpu():
    with train.autocast(torch.device("cpu")):
        y = torch.ones(2, 2) @ torch.ones(2, 2)
    assert y.dtype == torch.float32
