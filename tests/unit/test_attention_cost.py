"""The cost benchmark: tiny sweeps, the one timer and memory policy, warm-up, OOM handling,
the stop flag, the slope fit, and the slopes of the default run."""

import math

import numpy as np
import pytest
import torch

from seqviz.attention import cost
from seqviz.core import memory, timing

TINY = cost.CostSettings(max_side=16, channels=4, repeats=2, warmup=1)


def test_tiny_sweep_measures_every_side_and_reports_progress():
    seen = []
    sweep = cost.measure_costs(TINY, "cpu", progress=lambda f, text: seen.append(f))
    assert isinstance(sweep, cost.CostSweep) and sweep.settings == TINY and sweep.device == "cpu"
    assert [r.side for r in sweep.rows] == [8, 12, 16] and sweep.tokens.tolist() == [64, 144, 256]
    assert all(r.attention_ms > 0 and r.conv_ms > 0 and r.note == "" for r in sweep.rows)
    assert all(r.attention_fastest_ms <= r.attention_ms and r.conv_fastest_ms <= r.conv_ms for r in sweep.rows)
    assert all(r.memory_source == "estimated from tensor sizes" for r in sweep.rows)
    assert sweep.attention_cold_ms > 0 and sweep.conv_cold_ms > 0
    assert seen[0] == 0.0 and seen[-1] == 1.0
    with pytest.raises(Exception, match="frozen|cannot assign"):
        sweep.rows[0].side = 3


def test_every_timed_call_goes_through_the_one_timer_with_the_stop_flag(monkeypatch):
    calls = []
    real = timing.measure

    def spy(fn, **kwargs):
        calls.append(kwargs)
        return real(fn, **kwargs)

    monkeypatch.setattr(timing, "measure", spy)
    cost.measure_costs(TINY, "cpu")
    timed = [c for c in calls if c["repeats"] == TINY.repeats]
    assert len(timed) == 2 * 3  # both methods on every side
    assert all(c["should_stop"] is not None and c["warmup"] == TINY.warmup for c in timed)
    warm_ups = [c for c in calls if c["repeats"] == 1 and c["warmup"] == 0]
    assert len(warm_ups) >= 2 * cost.WARM_UP_CALLS[0]  # both methods warmed up before the first size
    assert calls.index(timed[0]) > calls.index(warm_ups[-1])


def test_sizes_over_the_budget_are_skipped_before_allocating():
    settings = cost.CostSettings(max_side=32, channels=4, repeats=1, memory_budget=1 << 20)
    sweep = cost.measure_costs(settings, "cpu")
    skipped = [r.side for r in sweep.rows if r.note.startswith("attention skipped")]
    assert skipped == [24, 32]
    assert "exceeds the 1.0 MiB one job may use" in sweep.rows[-1].note
    assert all(math.isnan(r.attention_ms) for r in sweep.rows if r.side in skipped)
    assert all(r.conv_ms > 0 for r in sweep.rows)  # the convolution needs no N x N matrix
    nothing = cost.measure_costs(cost.CostSettings(max_side=8, memory_budget=16), "cpu")
    assert nothing.rows[0].note.startswith("skipped both") and math.isnan(nothing.rows[0].conv_ms)


def test_the_memory_policy_decides_even_under_a_large_slider_budget(monkeypatch):
    monkeypatch.setattr(memory, "free_memory_bytes", lambda device: 4 << 20)  # 2 MiB for one job
    sweep = cost.measure_costs(cost.CostSettings(max_side=24, channels=4, repeats=1), "cpu")
    assert [r.side for r in sweep.rows if r.note.startswith("attention skipped")] == [24]
    assert "2.0 MiB" in sweep.rows[-1].note


def test_out_of_memory_is_caught(monkeypatch):
    calls = {"n": 0}
    real = timing.measure

    def failing(fn, **kwargs):
        if kwargs["repeats"] == TINY.repeats:
            calls["n"] += 1
            if calls["n"] == 4:  # conv then attention per side: the second side's attention
                raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(fn, **kwargs)

    monkeypatch.setattr(timing, "measure", failing)
    rows = cost.measure_costs(TINY, "cpu").rows
    assert rows[1].note == "attention skipped: ran out of memory while running"
    assert math.isnan(rows[1].attention_ms) and rows[1].conv_ms > 0
    assert rows[0].note == rows[2].note == ""


@pytest.mark.parametrize("stop_at", [1, 3, 12])
def test_should_stop_ends_the_loop_at_once(monkeypatch, stop_at):
    asked, timed_after_stop = [], []
    real = timing.measure

    def counting(fn, **kwargs):
        if asked and asked[-1]:
            timed_after_stop.append(kwargs)
        return real(fn, **kwargs)

    def should_stop():
        asked.append(len(asked) + 1 >= stop_at)
        return asked[-1]

    monkeypatch.setattr(timing, "measure", counting)
    with pytest.raises(cost.BenchmarkStopped):
        cost.measure_costs(TINY, "cpu", should_stop=should_stop)
    assert len(asked) == stop_at and timed_after_stop == []


def test_weights_and_images_come_from_the_seed_not_the_global_generator():
    before = torch.get_rng_state()
    cost.measure_costs(cost.CostSettings(max_side=8, channels=4, repeats=1), "cpu")
    assert torch.equal(torch.get_rng_state(), before)


def test_memory_estimate_and_theory():
    assert cost.attention_matrix_bytes(64, 16) == 4 * (2 * 4096**2 + 5 * 4096 * 16)
    attention_flops, conv_flops = cost.theory_flops(32, 16, 3)
    assert attention_flops == 4 * 1024**2 * 16 and conv_flops == 2 * 1024 * 9 * 256
    assert cost.sweep_sides(cost.CostSettings(max_side=64)) == [8, 12, 16, 24, 32, 48, 64]


def test_fit_slope_recovers_powers():
    n = np.array([64, 256, 1024, 4096, 16384], float)
    assert cost.fit_slope(n, 3e-6 * n**2) == pytest.approx(2.0)
    assert cost.fit_slope(n, 0.01 * n) == pytest.approx(1.0)
    assert math.isnan(cost.fit_slope(n[:1], n[:1]))
    assert cost.fit_slope(n, np.array([np.nan, 1, 2, 4, np.nan])) == pytest.approx(0.5)
    overhead_then_linear = np.array([0.05, 0.05, 0.4, 1.6, 6.4])
    assert cost.fit_slope(n, overhead_then_linear) == pytest.approx(1.0)
    fast_machine = np.array([0.01, 0.011, 0.04, 0.16, np.nan])  # all below 0.2 ms, still fitted
    assert cost.fit_slope(n, fast_machine) == pytest.approx(1.0)
    assert math.isnan(cost.fit_slope(n, np.array([0.05, 0.05, 0.06, 0.07, 0.09])))  # all overhead
    assert math.isnan(cost.fit_slope(n, np.full(5, np.nan)))


def test_the_default_run_fits_positive_slopes():
    """The page's default sweep (warmed up before the first size) fits time growing with N
    for both methods; the figures are printed, never compared with fixed times."""
    sweep = cost.measure_costs(cost.CostSettings(), "cpu")
    slopes = {name: sweep.slope(name) for name in cost.METHODS}
    print("default run:", {name: [round(t, 3) for t in sweep.milliseconds(name)] for name in cost.METHODS},
          "cold ms", round(sweep.attention_cold_ms, 2), round(sweep.conv_cold_ms, 2), "slopes", slopes)
    assert slopes["attention"] > 0 and slopes["convolution"] > 0, slopes


def test_out_of_order_finds_a_smaller_size_slower_than_a_larger_one():
    def row(side, attention_ms, conv_ms):
        return cost.CostRow(side, side * side, attention_ms, attention_ms, conv_ms, conv_ms, 0.0, 0.0, "")

    steady = cost.CostSweep(TINY, "cpu", (row(8, 1.0, 1.0), row(16, 16.0, 1.2), row(32, 250.0, 0.9)), 1.0, 1.0)
    assert steady.out_of_order("attention") is None and steady.out_of_order("convolution") is None
    busy = cost.CostSweep(TINY, "cpu", (row(8, 170.0, 30.0), row(16, 0.2, 0.1), row(32, np.nan, 0.4)), 1.0, 1.0)
    assert busy.out_of_order("attention") == cost.OutOfOrder(8, 170.0, 16, 0.2)
    assert busy.out_of_order("convolution") == cost.OutOfOrder(8, 30.0, 16, 0.1)


def test_a_stopped_sweep_keeps_the_sizes_measured_before_stop():
    settings = cost.CostSettings(max_side=32, channels=4, repeats=1)
    rows = []
    with pytest.raises(cost.BenchmarkStopped) as stopped:
        cost.measure_costs(settings, "cpu", should_stop=lambda: len(rows) >= 2, on_row=rows.append)
    partial = stopped.value.partial
    assert partial.stopped and [r.side for r in partial.rows] == [8, 12] == [r.side for r in rows]


def test_the_estimate_is_scaled_from_one_call_of_each_method_timed_now(monkeypatch):
    settings = cost.CostSettings(max_side=64, channels=4, repeats=2, memory_budget=2**22)
    found = cost.estimate_costs(settings, "cpu", probe_side=16)
    assert found.probe_side == 16 and found.attention_s > 0 and found.conv_s > 0
    assert found.calls_per_size == settings.warmup + settings.repeats
    per_side = dict(found.seconds_per_side)
    assert list(per_side) == cost.sweep_sides(settings)
    conv_only = found.calls_per_size * found.conv_s * (64 * 64) / (16 * 16)
    assert per_side[64] == pytest.approx(conv_only)    # the N x N matrices do not fit 4 MiB: conv alone
    both_24 = found.calls_per_size * (found.conv_s * 2.25 + found.attention_s * 2.25 ** 2)
    assert per_side[24] == pytest.approx(both_24) and found.seconds == pytest.approx(sum(per_side.values()))
