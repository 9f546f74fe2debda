"""The training runner: the Stop button's flag ends the library loop early, the estimate before a
run comes from a measurement, and a stopped run stays on the page marked partial."""

import threading
import time

import pytest
import torch

from seqviz.core import timing
from seqviz.core.train import NonFiniteLoss, Progress
from seqviz.recurrent import train as mt
from seqviz.ui.recurrent import memory
from seqviz.ui.training import Estimate, EstimatePart, TrainingJob, format_duration


def test_stop_flag_ends_the_memory_training_loop_at_step_k_of_n():
    configs = [mt.MemoryConfig(kind=k, length=10, hidden=8, steps=300, eval_every=10) for k in ("rnn-tanh", "lstm")]
    store = {}
    started = threading.Event()
    train = memory.train_models(configs, torch.device("cpu"), store)

    def watched(on_progress, should_stop):
        def report(p: Progress) -> None:
            on_progress(p)
            if p.step >= 25:
                started.set()
        return train(report, should_stop)

    job = TrainingJob(watched).start()
    assert started.wait(120)
    job.stop()                          # what the Stop button's on_click does
    outcome = job.wait(120)
    assert outcome is not None and outcome.stopped and not outcome.error
    assert 25 <= outcome.steps_done < outcome.total == 600
    assert "Run 1 stopped at step" in outcome.summary and f"of {outcome.total:,}" in outcome.summary
    run = store[("memory", "rnn-tanh")]
    assert run.stopped and run.steps_done == outcome.steps_done < 300
    assert run.history and run.history[-1].step <= run.steps_done   # the curve so far stays
    assert ("memory", "lstm") not in store                         # never started: not recorded
    assert outcome.result == ("rnn-tanh",)


def test_a_train_function_without_a_stop_flag_is_stopped_at_its_next_report():
    reached = []

    def train(on_progress):
        for step in range(1, 10_000):
            on_progress(Progress(step, 10_000, {"loss": 1.0}, 0.0))
            reached.append(step)
            if step == 5:
                job.stop()
        return "finished"

    job = TrainingJob(train)
    outcome = job.start().wait(60)
    assert outcome.stopped and outcome.result is None and len(reached) == 5


def test_failures_become_messages():
    def train(on_progress, should_stop):
        on_progress(Progress(3, 10, {"loss": float("nan")}, 0.0))
        raise NonFiniteLoss(3, float("nan"))

    outcome = TrainingJob(train).start().wait(60)
    assert outcome.error and "step 3" in outcome.summary and not outcome.stopped


def test_a_streamlit_script_control_exception_in_the_thread_ends_the_job_as_stopped():
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    def train(on_progress, should_stop):
        on_progress(Progress(4, 10, {"loss": 0.5}, 0.0))
        raise StopException()                   # what a streamlit call raises once the run is stopped

    outcome = TrainingJob(train).start().wait(60)
    assert outcome is not None and outcome.stopped and outcome.error is None and outcome.steps_done == 4


def _slow_run(seconds_per_step, steps=6):
    """A probe whose every step takes `seconds_per_step` (the first, the warm-up, three times that)."""
    def run(report):
        for step in range(1, steps + 1):
            time.sleep(seconds_per_step * (3 if step == 1 else 1))
            report(Progress(step, steps, {"loss": 1.0}, 0.0))
    return run


def test_the_estimate_comes_from_the_measured_steps_and_scales_with_them():
    fast, slow = (timing.per_reported_step(_slow_run(s)) for s in (0.01, 0.04))
    assert len(fast.samples) == 5                      # the warm-up step is not counted
    assert 0.009 <= fast.median < 0.03 and 0.039 <= slow.median < 0.08
    assert 2.5 < slow.median / fast.median < 5         # a slower step: a proportionally longer estimate
    estimate = Estimate((EstimatePart("", slow.median, 400, len(slow.samples)),
                         EstimatePart("validation", 0.5, 4, 1, unit="evaluation")), "cpu")
    assert estimate.seconds == pytest.approx(400 * slow.median + 2.0)
    assert estimate.units == 400
    assert estimate.text.startswith(f"Estimated {format_duration(estimate.seconds)} for 400 steps (measured: ")
    assert f"{slow.median * 1000:,.0f} ms per step over 5 timed steps, × 400" in estimate.text
    assert "validation: 500 ms per evaluation over 1 timed evaluation, × 4" in estimate.text
    assert "just now on CPU" in estimate.text
    assert [format_duration(s) for s in (0.42, 12.4, 185)] == ["0.4 s", "12 s", "3 min 05 s"]


def test_a_finished_run_is_compared_with_its_estimate():
    def train(on_progress, should_stop):
        for step in range(1, 4):
            on_progress(Progress(step, 3, {"loss": 1.0 / step}, 0.0))
        return "done"

    job = TrainingJob(train, estimate_s=2.0)
    outcome = job.start().wait(60)
    assert outcome.result == "done" and not outcome.stopped
    assert "(estimated 2.0 s before it started: it took" in outcome.summary and "× the estimate)" in outcome.summary
    assert job.curve == [(1, 1.0), (2, 0.5), (3, pytest.approx(1 / 3))]       # the live curve's points


def _page():
    """A page with one job: its estimate timed on a probe of the same (slow) step, the live curve."""
    import time

    import streamlit as st

    from seqviz.core import timing
    from seqviz.core.train import train_loop
    from seqviz.ui.training import Estimate, EstimatePart, run_training, session_estimate

    seconds = st.session_state.get("step_s", 0.01)

    def step(_):
        time.sleep(seconds)
        return {"loss": 1.0}

    def measure():
        found = timing.per_reported_step(lambda report: train_loop(step, 4, on_progress=report))
        return Estimate((EstimatePart("", found.median, 200, len(found.samples)),), "cpu")

    def train(on_progress, should_stop):
        return train_loop(step, 200, on_progress=on_progress, should_stop=should_stop)

    run_training("demo", train, estimate=session_estimate("demo", seconds, measure))


def test_the_page_shows_the_estimate_before_start_and_the_partial_state_after_stop():
    from streamlit.testing.v1 import AppTest

    from seqviz.ui import training

    at = AppTest.from_function(_page, default_timeout=120)
    at.session_state["step_s"] = 0.01
    at.run()
    fast = next(c.value for c in at.caption if c.value.startswith("Estimated"))
    at.session_state["step_s"] = 0.04
    at.run()
    slow = next(c.value for c in at.caption if c.value.startswith("Estimated"))
    seconds = lambda text: float(text.split("Estimated ")[1].split(" s ")[0])
    assert 2.5 < seconds(slow) / seconds(fast) < 5      # the injected slower step shows in the estimate
    assert "per step over 3 timed steps, × 200, just now on CPU" in slow

    def press_stop(run):
        deadline = time.time() + 60
        while time.time() < deadline:
            job = (at.session_state[training._JOBS] if training._JOBS in at.session_state else {}).get("demo")
            if job is not None and job.number == run and job.latest is not None and job.latest.step >= 10:
                job.stop()                               # what the Stop button's on_click does
                return
            time.sleep(0.02)

    for run in (1, 2):                                   # Train and Stop, twice
        pressing = threading.Thread(target=press_stop, args=(run,))
        pressing.start()
        at.button(key="demo_start").click().run()
        pressing.join()
        warning = " ".join(w.value for w in at.warning)
        assert f"Run {run} stopped at step" in warning and "of 200" in warning and "marked partial" in warning
        k = int(warning.split("stopped at step ")[1].split(" ")[0])
        assert 10 <= k < 200
        assert f"Partial run: loss up to step {k} of 200 (stopped)" in [c.value for c in at.caption]
        assert at.get("vega_lite_chart")                      # the curve so far stays drawn
        assert not at.exception
