"""The training runner's job: the Stop button's flag ends the library loop early."""

import threading

import torch

from seqviz.core.train import NonFiniteLoss, Progress
from seqviz.recurrent import train as mt
from seqviz.ui.recurrent import memory
from seqviz.ui.training import TrainingJob


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
