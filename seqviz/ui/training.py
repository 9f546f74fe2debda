"""Live training on a page: a Train button, a progress bar and a Stop button.

Training runs in a background thread of this session (a `TrainingJob`), through the
library's loop (seqviz.core.train.train_loop) with its two hooks: a progress callback
and a stop flag. The page's script run watches the job: it redraws the bar a few times
a second, and a rerun (a widget moved) simply watches again, so training goes on.
Pressing Stop sets the job's flag (the button's on_click); the loop checks it before
every step, and every torch module call inside a step checks it too
(seqviz.core.jobs.interruptible), so a long step ends at once; the weights and curves of
the whole steps so far stay, and the outcome says where it stopped. Closing the tab ends
the session and stops the job the same way.

The server is shared: a job first waits for its turn in the server-wide queue
(seqviz.core.jobs.gate: a few jobs at once within a memory total), and its bar says
"you are number k" meanwhile. A run whose timing probe runs past its own limit (`TooLong`)
is refused before it starts; steps measured longer than the server's step limit, and a run
estimated longer than its limit per run, are said (a timing can be slowed by other jobs),
and every run is stopped at the limit per run while it runs, keeping what it did.

Before a run starts, its time is estimated from a measurement (an `Estimate`: a few
steps of the same configuration timed just now, in this process, on the chosen device,
then extrapolated), never a constant; while it runs, a live curve of its loss (or another
metric) is drawn; once it is stopped, the curve so far stays, marked partial, and the
page keeps what was trained.

Call it outside any `st.fragment`: in Streamlit 1.67 a click on a widget inside a
fragment that is still running is queued until that run ends, so its Stop would only
arrive once training is over; a click outside fragments reruns the app and interrupts
the watching at once.
"""

from __future__ import annotations

import dataclasses
import inspect
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from seqviz.core import jobs
from seqviz.core.memory import format_bytes
from seqviz.core.train import NonFiniteLoss, Progress
from seqviz.ui import params

POLL_S = 0.2
CURVE_EVERY_S = 1.0      # the live curve is redrawn at most this often
CURVE_POINTS = 300       # and with at most about this many points, so the browser keeps up (and Stop arrives)
_JOBS = "_seqviz_training_jobs"
_ESTIMATES = "_seqviz_estimates"


def format_duration(seconds: float) -> str:
    """'0.4 s', '12 s', '3 min 05 s': a time as a person reads it."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def _milliseconds(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:,.2f} ms" if ms < 10 else f"{ms:,.0f} ms"


@dataclass(frozen=True)
class EstimatePart:
    """One kind of work in a run: its measured time per unit and how many units the run does."""

    name: str             # "RNN (tanh)", "step", "test-set measurement", ...
    seconds_each: float   # measured just now: the median over `timed` units
    count: int            # units in the whole run
    timed: int            # units timed for the measurement
    unit: str = ""        # its own unit ("evaluation"); empty: the estimate's unit, counted in its total


@dataclass(frozen=True)
class Estimate:
    """The estimated time of a run, extrapolated from a probe measured in this process."""

    parts: tuple[EstimatePart, ...]
    device: str           # where the probe ran: "cpu", "cuda"
    unit: str = "step"
    basis: str = ""       # how the parts were measured, when the parts themselves are too many to list
    busy: int = 0         # jobs running on the server while it was measured (they slow a probe down)

    @property
    def seconds(self) -> float:
        return sum(part.seconds_each * part.count for part in self.parts)

    @property
    def units(self) -> int:
        return sum(part.count for part in self.parts if not part.unit)

    @property
    def text(self) -> str:
        measured = "; ".join(
            f"{part.name + ': ' if part.name else ''}{_milliseconds(part.seconds_each)} per {part.unit or self.unit} "
            f"over {part.timed} timed {part.unit or self.unit}{'s' if part.timed != 1 else ''}, × {part.count:,}"
            for part in self.parts) if not self.basis else self.basis
        return (f"Estimated {format_duration(self.seconds)} for {self.units:,} {self.unit}s (measured: "
                f"{measured}, just now on {self.device.upper()} in this session; other work on the machine "
                "can change it).")

    @property
    def longest_step_s(self) -> float | None:
        """The longest single step or evaluation measured (None for other units: a benchmark's
        size or a captioner is checked inside, module by module)."""
        steps = [part.seconds_each for part in self.parts if (part.unit or self.unit) in ("step", "evaluation")]
        return max(steps) if steps else None

    def slow_steps(self) -> str | None:
        """What to say when its steps are longer than this server's limit per step (Stop then
        waits for the step in progress; seqviz.core.jobs.limits); None if they are not. Said, not
        refused: a timing can be slowed by other work on the machine."""
        return jobs.refusal(self.longest_step_s, self.unit)

    def over_time(self) -> str | None:
        """What to say when the run is estimated longer than the server's limit per run."""
        return jobs.over_time(self.seconds, self.units, self.unit)


@dataclass(frozen=True)
class TooLong:
    """A timing probe cut off at its time limit: the run it times is too long for this server."""

    seconds: float          # how long the probe had run when it was cut off
    busy: int = 0           # jobs running on the server meanwhile

    def reason(self) -> str:
        """Why the run it timed may not start."""
        return (f"timing a few steps of these settings ran past the {jobs.limits().probe_s:g} s a timing "
                f"may take here (cut off after {self.seconds:.1f} s), so one step is too long for this server")


def bounded_probe(measure: Callable[[], Estimate]) -> Estimate | TooLong:
    """Run a timing probe, cut off inside its step once it passes `jobs.limits().probe_s`."""
    limit, start, busy = jobs.limits().probe_s, time.perf_counter(), jobs.gate().status()[0]
    try:
        with jobs.interruptible(lambda: time.perf_counter() - start > limit):
            found = measure()
    except jobs.Interrupted:
        return TooLong(time.perf_counter() - start, max(busy, jobs.gate().status()[0]))
    busy = max(busy, jobs.gate().status()[0])
    return dataclasses.replace(found, busy=busy) if isinstance(found, Estimate) and busy else found


def _refusal(probe: TooLong) -> str | None:
    """Why the run whose timing probe was cut off may not start. A probe cut off while other
    jobs computed can be many times too slow (their threads take the cores), so then the run
    may start and the limit is held while it runs instead (TrainingJob stops at
    `jobs.limits().job_s`): it is said, not refused."""
    if probe.busy:
        st.caption(f"The timing was measured while {probe.busy} other job{'s' if probe.busy > 1 else ''} "
                   f"ran on this server, so it may be pessimistic ({probe.reason()}). The run may start; it "
                   f"stops at the server's limit of {jobs.limits().job_s:.0f} s per run if it gets there.")
        return None
    return probe.reason()


def session_estimate(key: str, settings: Any, measure: Callable[[], Estimate]) -> Estimate | TooLong | None:
    """The estimate for the run of `key` with `settings` (hashable), measured once per
    settings in this session by `measure()` (a probe of the same configuration, timed now,
    cut off at the server's probe limit: then a `TooLong`, and the run is refused).
    Not measured while the job of `key` runs: the probe would slow both and skew itself."""
    store = st.session_state.setdefault(_ESTIMATES, {})
    if (key, settings) in store:
        found = store[(key, settings)]
        return found if isinstance(found, Estimate | TooLong) else None
    job = current_job(key)
    if job is not None and job.running:
        return None
    try:
        store[(key, settings)] = found = bounded_probe(measure)
    except Exception as error:  # noqa: BLE001 - a probe that fails (a NaN loss, no memory) only loses the estimate
        store[(key, settings)] = str(error)
        st.caption(f"No time estimate: the timing run failed ({params.plain(str(error)[:200])}); "
                   "the run itself says what happens.")
        return None
    return found


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
    estimate_s: float | None = None  # the time estimated before it started
    unit: str = "step"
    started: bool = True     # False: stopped while it waited for its turn, nothing computed
    stop_latency_s: float | None = None  # from the Stop press (or the session's end) to the job's end
    time_limit_s: float | None = None    # stopped at the server's limit per run (not by Stop)

    @property
    def summary(self) -> str:
        if not self.started:
            return (f"Run {self.number} was stopped while it waited for its turn in the server's queue; "
                    "nothing was computed.")
        if self.error:
            return f"Run {self.number} failed at {self.unit} {self.steps_done:,} of {self.total:,}: {self.error}"
        if self.stopped:
            ended = ("" if self.stop_latency_s is None else
                     f" (it ended {self.stop_latency_s:.2f} s after Stop was pressed)")
            if self.time_limit_s is not None:
                ended = f" (the server's limit of {self.time_limit_s:.0f} s per run)"
            return (f"Run {self.number} stopped at {self.unit} {self.steps_done:,} of {self.total:,} after "
                    f"{self.elapsed_s:.1f} s{ended}; what was done so far is kept, marked partial.")
        compared = ("" if not self.estimate_s else
                    f" (estimated {format_duration(self.estimate_s)} before it started: it took "
                    f"{self.elapsed_s / self.estimate_s:.2f}× the estimate)")
        return f"Run {self.number} finished {self.total:,} {self.unit}s in {self.elapsed_s:.1f} s{compared}."


class _Stopped(Exception):
    """Raised inside a train function that does not take a stop flag, at its next report."""


class TrainingJob:
    """One training run in a thread: its latest progress, a stop flag, and its outcome.

    `train(on_progress, should_stop)` runs the library loop; a train function that
    takes only `on_progress` is stopped at its next progress report instead.
    """

    def __init__(self, train: Callable[..., Any], session_alive: Callable[[], bool] = lambda: True,
                 number: int = 1, estimate_s: float | None = None, unit: str = "step",
                 metric: str = "loss", need_bytes: int = 0, name: str = "job", measures_time: bool = False):
        self._train = train
        self.measures_time = measures_time     # a benchmark: it keeps the pages' priority (see _run)
        self.need_bytes = need_bytes
        self.name = name
        self.queue_position = 0          # while waiting for its turn: 1 for the next to run
        self.number = number
        self.estimate_s = estimate_s
        self.unit = unit
        self.metric = metric
        self.curve: list[tuple[int, float]] = []   # (step, metric) at every report: the live curve
        self._session_alive = session_alive
        self._stop = threading.Event()
        self._stop_asked: float | None = None   # when Stop was pressed or the session was found closed
        self._deadline: float | None = None     # the server's limit per run, from its turn on
        self.over_time = False                   # stopped at that limit
        self.latest: Progress | None = None
        self.outcome: TrainingOutcome | None = None
        self.consumed = False
        self._takes_stop_flag = len(inspect.signature(train).parameters) >= 2
        self._start = time.perf_counter()
        self.thread = threading.Thread(target=self._run, name="seqviz-training", daemon=True)

    def should_stop(self) -> bool:
        """The stop flag the library loop checks before every step and inside it."""
        if self._stop.is_set():
            return True
        if self._deadline is not None and time.perf_counter() > self._deadline:
            self.over_time, self._stop_asked = True, time.perf_counter()
            self._stop.set()
            return True
        if not self._session_alive():
            self._stop_asked = self._stop_asked or time.perf_counter()
            return True
        return False

    def stop(self) -> None:
        """What the Stop button does: ask the loop to end, inside the step it is in."""
        if not self._stop.is_set():
            self._stop_asked = time.perf_counter()
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
        jobs.courtesy()
        self.latest = progress
        value = progress.metrics.get(self.metric)
        if value is not None:
            self.curve.append((progress.step, float(value)))
        if not self._takes_stop_flag and self.should_stop():
            raise _Stopped

    def _run(self) -> None:
        result, error, started = None, None, False
        try:
            with jobs.gate().place(self.name, self.need_bytes, self.should_stop, self._on_wait) as admitted:
                self.queue_position = 0
                if admitted:
                    # the pages stay quick while it computes; a benchmark keeps their priority, or any
                    # other work on the machine would be counted in its timings
                    jobs.become_job(lowered=not self.measures_time)
                    started, self._start = True, time.perf_counter()   # its time runs from its turn
                    self._deadline = self._start + jobs.limits().job_s
                    if self._takes_stop_flag:   # the library loop checks it inside every step too
                        result = self._train(self._on_progress, self.should_stop)
                    else:
                        result = self._train(self._on_progress)
        except (_Stopped, jobs.Interrupted):
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
        stopped = (self.should_stop() and (latest is None or steps < total)) or not started
        end = time.perf_counter()
        self.outcome = TrainingOutcome(result, steps, total, stopped, error, end - self._start, self.number,
                                       self.estimate_s, self.unit, started,
                                       end - self._stop_asked if stopped and self._stop_asked else None,
                                       jobs.limits().job_s if self.over_time else None)

    def _on_wait(self, position: int) -> None:
        self.queue_position = position


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


def start_job(key: str, train: Callable[..., Any], estimate: Estimate | None = None, unit: str = "step",
              metric: str = "loss", memory_bytes: int = 0, measures_time: bool = False) -> TrainingJob:
    """Start `train` in a thread of this session, under `key` (used directly by tests); it
    first waits for its turn in the server's queue, reserving `memory_bytes` there."""
    from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx
    previous = current_job(key)
    job = TrainingJob(train, _session_alive_check(), previous.number + 1 if previous else 1,
                      None if not isinstance(estimate, Estimate) else estimate.seconds, unit, metric,
                      memory_bytes, key, measures_time)
    ctx = get_script_run_ctx()
    if ctx is not None:  # the train function may keep its state in st.session_state
        add_script_run_ctx(job.thread, ctx)
    _jobs()[key] = job
    return job.start()


def run_training(key: str, train: Callable[..., Any], *, label: str = "Train",
                 describe: Callable[[Progress], str] | None = None,
                 on_report: Callable[[Progress], None] | None = None,
                 estimate: Estimate | TooLong | None = None, live_curve: bool = True,
                 metric: str = "loss", unit: str = "step", memory_bytes: int = 0,
                 measures_time: bool = False) -> Any | None:
    """Draw the estimate, Train / Stop and, once Train is pressed, watch the job until it ends.

    `train(on_progress, should_stop)` runs the loop (seqviz.core.train.train_loop); a
    train function of `on_progress` alone is stopped at its next report. Returns what
    `train` returned, once, on the run in which the job ends; None otherwise. How the
    last job ended (finished, stopped at step k of n, failed) is shown on every run.
    `estimate` (from `session_estimate`) is shown before the buttons and compared with
    the time the run took. While it runs, the live curve of `metric` (from the reports)
    is drawn unless `live_curve` is False (a page drawing its own passes `on_report`,
    which may redraw a chart at each new report, in the page's thread); after Stop the
    curve so far stays, marked partial. A run the server's limits refuse (a probe cut off as
    `TooLong`, or `memory_bytes` over the total all jobs may reserve) says why, and its button
    is disabled; slow steps and a run estimated over the limit per run are warned. A job that
    `measures_time` (a benchmark) computes at the pages' CPU priority.
    """
    job = current_job(key)
    if isinstance(estimate, Estimate):
        st.caption(estimate.text)
    refused = _refusal(estimate) if isinstance(estimate, TooLong) else None
    if isinstance(estimate, Estimate):     # measured: said, never refused (a timing can be slowed by others)
        slow, long_run = estimate.slow_steps(), estimate.over_time()
        if slow:
            st.warning(f"Slow steps: {slow}; Stop may wait for the step in progress. Smaller settings would "
                       "keep it responsive.", icon=":material/timer:")
        if long_run:
            st.warning(f"Long: {long_run}. Fewer steps or smaller settings would finish.", icon=":material/timer:")
    if jobs.gate().too_big(memory_bytes):
        refused = (f"it needs about {format_bytes(memory_bytes)}, more than the "
                   f"{format_bytes(jobs.limits().memory_bytes)} all jobs on this server may take together")
    if refused:
        st.warning(f"Refused: {refused}. Choose smaller settings (fewer steps, a shorter sequence, a smaller "
                 "model); a lecturer can raise the limits (SEQVIZ_MAX_JOB_S, SEQVIZ_MAX_STEP_S, "
                 "SEQVIZ_JOBS_MEMORY_MB; see the README).", icon=":material/block:")
    left, right = st.columns([1, 1])
    start = left.button(label, key=f"{key}_start", type="primary", icon=":material/play_arrow:",
                        disabled=bool(refused))
    right.button("Stop", key=f"{key}_stop", icon=":material/stop:",
                 on_click=_stop_job, args=(key,),
                 help="Stops the run at once, inside its step; the whole steps done so far are kept, "
                      "marked partial.")
    if start and job is not None and job.running:
        st.info("This is already running; press Stop first to start again.", icon=":material/info:")
    elif start and not refused:
        job = start_job(key, train, estimate, unit, metric, memory_bytes, measures_time)
    if job is None:
        return None
    chart = st.empty() if live_curve else None
    if job.running:
        _watch(job, describe, on_report, chart)
    outcome = job.wait()
    if outcome is None:
        return None
    if outcome.error:
        st.error(outcome.summary, icon=":material/warning:")
    elif outcome.stopped:
        st.warning(outcome.summary, icon=":material/stop_circle:")
    else:
        st.caption(outcome.summary)
    if chart is not None:
        if outcome.stopped and job.curve:
            _draw_curve(chart, job, f"Partial run: {job.metric} up to {job.unit} {outcome.steps_done:,} of "
                                    f"{outcome.total:,} (stopped)")
        else:
            chart.empty()
    if job.consumed:
        return None
    job.consumed = True
    return outcome.result


def _describe(progress: Progress) -> str:
    return (f"step {progress.step:,}/{progress.total:,} · loss "
            f"{progress.metrics.get('loss', float('nan')):.4f} · {progress.elapsed_s:.1f} s")


def _draw_curve(chart: Any, job: TrainingJob, title: str) -> None:
    """The job's curve so far, in its placeholder: a title line and a line chart."""
    points = list(job.curve)
    if len(points) > CURVE_POINTS:               # every stride-th point, and always the last
        stride = -(-len(points) // CURVE_POINTS)
        points = points[::stride] + ([points[-1]] if (len(points) - 1) % stride else [])
    with chart.container():
        st.caption(title)
        st.line_chart(pd.DataFrame(points, columns=[job.unit, job.metric]), x=job.unit, y=job.metric,
                      height=220)


def _watch(job: TrainingJob, describe: Callable[[Progress], str] | None,
           on_report: Callable[[Progress], None] | None, chart: Any = None) -> None:
    """Redraw the bar (and the live curve) until the job ends; a click elsewhere interrupts
    this, never the job."""
    bar = st.progress(0.0, text="starting…")
    shown, drawn, queued = None, 0.0, None
    while job.running:
        if job.latest is None and job.queue_position and job.queue_position != queued:
            queued = job.queue_position
            running, waiting, _ = jobs.gate().status()
            bar.progress(0.0, text=f"Busy: you are number {queued} in the queue ({waiting} waiting, "
                                   f"{running} running on this server, at most {jobs.limits().max_jobs} at "
                                   "once); it starts on its own when its turn comes.")
        progress = job.latest
        if progress is not None and progress is not shown:
            shown = progress
            text = (describe or _describe)(progress)
            if job.should_stop():
                text = "stopping… " + text
            elif job.estimate_s:
                text += f" · estimated {format_duration(job.estimate_s)} in all"
            bar.progress(min(1.0, progress.fraction), text=text)
            if on_report is not None:
                on_report(progress)
            if chart is not None and job.curve and time.perf_counter() - drawn >= CURVE_EVERY_S:
                drawn = time.perf_counter()
                _draw_curve(chart, job, f"Live: {job.metric} at {job.unit} {progress.step:,} of {progress.total:,}")
        with jobs.page_drawing(-1):     # waiting, not drawing: the job need not give way to it
            job.wait(POLL_S)
    bar.empty()
