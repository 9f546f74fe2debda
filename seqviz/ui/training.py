"""Live training on a page: a Train button, a progress bar and a Stop button.

Training runs in a background thread of this session (a `TrainingJob`), through the
library's loop (seqviz.core.train.train_loop) with its two hooks: a progress callback
and a stop flag. The page's script run watches the job: it redraws the bar a few times
a second, and a rerun (a widget moved) simply watches again, so training goes on.
Pressing Stop sets the job's flag (the button's on_click); the loop checks it before
every step and ends there, so the weights and curves trained so far stay, and the
outcome says where it stopped. Closing the tab ends the session and stops the job too.

Call it outside any `st.fragment`: in Streamlit 1.67 a click on a widget inside a
fragment that is still running is queued until that run ends, so its Stop would only
arrive once training is over; a click outside fragments reruns the app and interrupts
the watching at once.
"""

from __future__ import annotations

import inspect
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from seqviz.core.train import NonFiniteLoss, Progress

POLL_S = 0.2
_JOBS = "_seqviz_training_jobs"


@dataclass(frozen=True)
class TrainingOutcome:
    """How a training job ended."""

    result: Any              # what the train function returned (None when it failed)
    steps_done: int          # the last reported step
    total: int               # the steps asked for
    stopped: bool            # Stop was pressed (or the session closed) before the end
    error: str | None        # a message to show, when it failed
    elapsed_s: float
    number: int = 1          # the how-manieth run of this button in the session

    @property
    def summary(self) -> str:
        if self.error:
            return f"Run {self.number} failed at step {self.steps_done:,} of {self.total:,}: {self.error}"
        if self.stopped:
            return (f"Run {self.number} stopped at step {self.steps_done:,} of {self.total:,} after "
                    f"{self.elapsed_s:.1f} s; what was trained so far is kept.")
        return f"Run {self.number} finished {self.total:,} steps in {self.elapsed_s:.1f} s."


class _Stopped(Exception):
    """Raised inside a train function that does not take a stop flag, at its next report."""


class TrainingJob:
    """One training run in a thread: its latest progress, a stop flag, and its outcome.

    `train(on_progress, should_stop)` runs the library loop; a train function that
    takes only `on_progress` is stopped at its next progress report instead.
    """

    def __init__(self, train: Callable[..., Any], session_alive: Callable[[], bool] = lambda: True,
                 number: int = 1):
        self._train = train
        self.number = number
        self._session_alive = session_alive
        self._stop = threading.Event()
        self.latest: Progress | None = None
        self.outcome: TrainingOutcome | None = None
        self.consumed = False
        self._takes_stop_flag = len(inspect.signature(train).parameters) >= 2
        self._start = time.perf_counter()
        self.thread = threading.Thread(target=self._run, name="seqviz-training", daemon=True)

    def should_stop(self) -> bool:
        """The stop flag the library loop checks before every step."""
        return self._stop.is_set() or not self._session_alive()

    def stop(self) -> None:
        """What the Stop button does: ask the loop to end before its next step."""
        self._stop.set()

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    def start(self) -> TrainingJob:
        self.thread.start()
        return self

    def wait(self, timeout: float | None = None) -> TrainingOutcome | None:
        self.thread.join(timeout)
        return self.outcome

    def _on_progress(self, progress: Progress) -> None:
        self.latest = progress
        if not self._takes_stop_flag and self.should_stop():
            raise _Stopped

    def _run(self) -> None:
        result, error = None, None
        try:
            if self._takes_stop_flag:
                result = self._train(self._on_progress, self.should_stop)
            else:
                result = self._train(self._on_progress)
        except _Stopped:
            pass
        except NonFiniteLoss as failure:
            error = f"{failure}. The last good weights were kept"
        except MemoryError:
            error = "out of memory: this configuration does not fit. Try a smaller one"
        except Exception as failure:  # noqa: BLE001 - shown on the page, never a traceback
            error = ("the device ran out of memory for this configuration. Try a smaller batch or "
                     "model, or the CPU" if "out of memory" in str(failure).lower() else
                     f"{type(failure).__name__}: {failure}")
            traceback.print_exc()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # noqa: BLE001 - a streamlit script-control exception (the session's run
            self._stop.set()   # was stopped) reached this thread through a streamlit call: end as stopped
        latest = self.latest
        steps = latest.step if latest else 0
        total = latest.total if latest else 0
        self.outcome = TrainingOutcome(result, steps, total, self._stop.is_set() and steps < total, error,
                                       time.perf_counter() - self._start, self.number)


def _session_alive_check() -> Callable[[], bool]:
    """A thread-safe check that this browser session still exists (always True under AppTest)."""
    try:
        from streamlit.runtime import Runtime
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        ctx = get_script_run_ctx()
        if ctx is None or not Runtime.exists():
            return lambda: True
        runtime, session_id = Runtime.instance(), ctx.session_id
        return lambda: runtime.is_active_session(session_id)
    except Exception:  # noqa: BLE001 - a missing runtime must not stop training
        return lambda: True


def _jobs() -> dict[str, TrainingJob]:
    return st.session_state.setdefault(_JOBS, {})


def current_job(key: str) -> TrainingJob | None:
    """This session's job for `key` (running or finished), if any."""
    return _jobs().get(key)


def _stop_job(key: str) -> None:
    """The Stop button's on_click: set the running job's stop flag."""
    job = current_job(key)
    if job is not None:
        job.stop()


def start_job(key: str, train: Callable[..., Any]) -> TrainingJob:
    """Start `train` in a thread of this session, under `key` (used directly by tests)."""
    from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx
    previous = current_job(key)
    job = TrainingJob(train, _session_alive_check(), previous.number + 1 if previous else 1)
    ctx = get_script_run_ctx()
    if ctx is not None:  # the train function may keep its state in st.session_state
        add_script_run_ctx(job.thread, ctx)
    _jobs()[key] = job
    return job.start()


def run_training(key: str, train: Callable[..., Any], *, label: str = "Train",
                 describe: Callable[[Progress], str] | None = None,
                 on_report: Callable[[Progress], None] | None = None) -> Any | None:
    """Draw Train / Stop and, once Train is pressed, watch the job until it ends.

    `train(on_progress, should_stop)` runs the loop (seqviz.core.train.train_loop); a
    train function of `on_progress` alone is stopped at its next report. Returns what
    `train` returned, once, on the run in which the job ends; None otherwise. How the
    last job ended (finished, stopped at step k of n, failed) is shown on every run.
    `on_report` may redraw a live chart at each new report (in the page's thread).
    """
    job = current_job(key)
    left, right = st.columns([1, 1])
    start = left.button(label, key=f"{key}_start", type="primary", icon=":material/play_arrow:")
    right.button("Stop", key=f"{key}_stop", icon=":material/stop:",
                 on_click=_stop_job, args=(key,),
                 help="Stops training before its next step; the weights and curves so far are kept.")
    if start and job is not None and job.running:
        st.info("Training is already running; press Stop first to start again.", icon=":material/info:")
    elif start:
        job = start_job(key, train)
    if job is None:
        return None
    if job.running:
        _watch(job, describe, on_report)
    outcome = job.wait()
    if outcome is None:
        return None
    if outcome.error:
        st.error(outcome.summary, icon=":material/warning:")
    elif outcome.stopped:
        st.warning(outcome.summary, icon=":material/stop_circle:")
    else:
        st.caption(outcome.summary)
    if job.consumed:
        return None
    job.consumed = True
    return outcome.result


def _describe(progress: Progress) -> str:
    return (f"step {progress.step:,}/{progress.total:,} · loss "
            f"{progress.metrics.get('loss', float('nan')):.4f} · {progress.elapsed_s:.1f} s")


def _watch(job: TrainingJob, describe: Callable[[Progress], str] | None,
           on_report: Callable[[Progress], None] | None) -> None:
    """Redraw the bar until the job ends; a click elsewhere interrupts this, never the job."""
    bar = st.progress(0.0, text="starting…")
    shown = None
    while job.running:
        progress = job.latest
        if progress is not None and progress is not shown:
            shown = progress
            text = (describe or _describe)(progress)
            if job.should_stop():
                text = "stopping after this step… " + text
            bar.progress(min(1.0, progress.fraction), text=text)
            if on_report is not None:
                on_report(progress)
        job.wait(POLL_S)
    bar.empty()
