"""The cost benchmark: tiny sweeps, memory skips, OOM handling, stop flag and slope fit."""

import math

import numpy as np
import pytest
import torch

from seqviz.attention import cost
from seqviz.core.device import free_memory_bytes

TINY = cost.CostSettings(max_side=16, channels=4, repeats=2, warmup=1)


def test_tiny_sweep_measures_every_side_and_reports_progress():
    seen = []
    rows = cost.measure_costs(TINY, "cpu", progress=lambda f, text: seen.append(f))
    assert [r["side"] for r in rows] == [8, 12, 16]
    assert all(r["attention ms"] > 0 and r["conv ms"] > 0 and r["note"] == "" for r in rows)
    assert all(r["memory"] == "estimated from tensor sizes" for r in rows)
    assert seen[0] == 0.0 and seen[-1] == 1.0


def test_sizes_over_the_budget_are_skipped_before_allocating():
    settings = cost.CostSettings(max_side=32, channels=4, repeats=1, memory_budget=1 << 20)
    rows = cost.measure_costs(settings, "cpu")
    skipped = [r["side"] for r in rows if r["note"].startswith("attention skipped")]
    assert skipped == [24, 32]
    assert all(math.isnan(r["attention ms"]) for r in rows if r["side"] in skipped)
    assert all(r["conv ms"] > 0 for r in rows)  # the convolution needs no N x N matrix
    nothing = cost.measure_costs(cost.CostSettings(max_side=8, memory_budget=16), "cpu")
    assert nothing[0]["note"].startswith("skipped both") and math.isnan(nothing[0]["conv ms"])


def test_out_of_memory_is_caught(monkeypatch):
    calls = {"n": 0}
    real_time = cost._time

    def failing(fn, device, warmup, repeats, should_stop):
        calls["n"] += 1
        if calls["n"] == 4:  # conv then attention per side: the second side's attention
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_time(fn, device, warmup, repeats, should_stop)

    monkeypatch.setattr(cost, "_time", failing)
    rows = cost.measure_costs(TINY, "cpu")
    assert rows[1]["note"] == "attention skipped: ran out of memory while running"
    assert math.isnan(rows[1]["attention ms"]) and rows[1]["conv ms"] > 0
    assert rows[0]["note"] == rows[2]["note"] == ""


def test_should_stop_raises():
    with pytest.raises(cost.BenchmarkStopped):
        cost.measure_costs(TINY, "cpu", should_stop=lambda: True)


def test_memory_estimate_and_theory():
    assert cost.attention_matrix_bytes(64, 16) == 4 * (2 * 4096**2 + 5 * 4096 * 16)
    attention_flops, conv_flops = cost.theory_flops(32, 16, 3)
    assert attention_flops == 4 * 1024**2 * 16 and conv_flops == 2 * 1024 * 9 * 256
    assert free_memory_bytes(torch.device("cpu")) > 0
    assert cost.sweep_sides(cost.CostSettings(max_side=64)) == [8, 12, 16, 24, 32, 48, 64]


def test_fit_slope_recovers_powers():
    n = np.array([64, 256, 1024, 4096, 16384], float)
    assert cost.fit_slope(n, 3e-6 * n**2) == pytest.approx(2.0)
    assert cost.fit_slope(n, 0.01 * n) == pytest.approx(1.0)
    assert math.isnan(cost.fit_slope(n[:1], n[:1]))
    assert cost.fit_slope(n, np.array([np.nan, 1, 2, 4, np.nan])) == pytest.approx(0.5)
    overhead_then_linear = np.array([0.05, 0.05, 0.4, 1.6, 6.4])
    assert cost.fit_slope(n, overhead_then_linear) == pytest.approx(1.0)
