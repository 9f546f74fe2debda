"""Heavy work shared by everyone on one server: limits sized for the machine, a queue, and a
stop check that reaches inside long steps.

A class of thirty shares one process. Every heavy job (training, a benchmark) asks the
server-wide `gate()` for a place before it computes: at most `Limits.max_jobs` jobs run at
once and their memory estimates together stay under `Limits.memory_bytes`; the others wait
in order of arrival, each knowing its number in the queue. A job whose estimate is longer
than `Limits.job_s` is told so before it starts and is stopped at that limit while it runs
(`over_time`); one whose single step takes longer than `Limits.step_s` (so that Stop would
wait for it) is told so too (`refusal`, the reason), and a timing probe that runs past
`Limits.probe_s` refuses the run.

Stop reaches inside a step through `interruptible(check)`: while it is active in a thread,
every call of a torch module in that thread (a forward pass, each recurrent cell, each
transformer block) first runs `checkpoint()`, which raises `Interrupted` once `check()` is
true. The library's training loop treats that as a stop before the step: the weights of the
last whole step are kept.

The limits come from the environment, so a lecturer sizes them for the machine:
SEQVIZ_MAX_JOBS (default: half the CPU cores, at least 1), SEQVIZ_JOBS_MEMORY_MB (default:
half the machine's memory), SEQVIZ_MAX_JOB_S (default 300), SEQVIZ_MAX_STEP_S (default 1.0).
Nothing here imports streamlit.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import torch
from torch import nn

__all__ = ["Limits", "limits", "Gate", "Ticket", "gate", "Interrupted", "interruptible", "checkpoint",
           "carried", "refusal", "over_time", "total_memory_bytes"]

T = TypeVar("T")


def total_memory_bytes() -> int:
    """The machine's physical memory."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system: assume a small laptop
        return 8 << 30


def _env_number(name: str, default: float, minimum: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value >= minimum else default


@dataclass(frozen=True)
class Limits:
    """How much heavy work the server takes on at once, and how long one job may be."""

    max_jobs: int          # jobs computing at the same time, server-wide
    memory_bytes: int      # the sum of their memory estimates
    job_s: float           # the longest run one job may be estimated to take
    step_s: float          # the longest one step may take, so Stop acts at once
    nice: int = 0          # the CPU priority jobs run at (0: as the pages; 19: the lowest)

    @property
    def probe_s(self) -> float:
        """The longest a timing probe (a few steps, run when a page opens) may run."""
        return 10 * self.step_s + 5

    @property
    def text(self) -> str:
        from seqviz.core.memory import format_bytes
        return (f"at most {self.max_jobs} job{'s' if self.max_jobs != 1 else ''} at once within "
                f"{format_bytes(self.memory_bytes)} together, each at most {self.job_s:.0f} s with "
                f"steps of at most {self.step_s:g} s")


def limits() -> Limits:
    """The limits for this machine, from the environment or its defaults (read on every call)."""
    cores = os.cpu_count() or 2
    return Limits(
        max_jobs=int(_env_number("SEQVIZ_MAX_JOBS", max(1, cores // 2), 1)),
        memory_bytes=int(_env_number("SEQVIZ_JOBS_MEMORY_MB", total_memory_bytes() // 2 >> 20, 16)) << 20,
        job_s=_env_number("SEQVIZ_MAX_JOB_S", 300.0, 1.0),
        step_s=_env_number("SEQVIZ_MAX_STEP_S", 1.0, 0.05),
        nice=min(19, int(_env_number("SEQVIZ_JOB_NICE", 0, 0))),
    )


def become_job(lowered: bool = True) -> None:
    """Mark the calling thread as a job's: from now on it gives way to drawing pages (courtesy),
    and when `lowered` it computes at the lower CPU priority (lower_priority)."""
    _local.job = True
    if lowered:
        lower_priority()


def lower_priority(bounds: Limits | None = None) -> bool:
    """Run the calling thread, and the compute threads it starts (they inherit it), at the
    limits' nice value: when pages and a job want the same cores, the pages go first, and the
    job takes whatever is left (all of it when no page is drawing). On Linux a thread has its
    own nice value; elsewhere nothing changes. Whether it was lowered."""
    bounds = bounds or limits()
    if bounds.nice <= 0 or not hasattr(os, "setpriority"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), bounds.nice))
    except OSError:
        return False
    return True


def refusal(step_s: float | None, unit: str = "step", bounds: Limits | None = None) -> str | None:
    """Why a job whose longest `unit` takes `step_s` may not start here (Stop would have to wait
    for such a step); None when it may."""
    bounds = bounds or limits()
    if step_s is not None and step_s > bounds.step_s:
        return (f"one {unit} takes {step_s:.2f} s here, longer than the {bounds.step_s:g} s a {unit} may take "
                "on this server (so that Stop acts at once)")
    return None


def over_time(seconds: float, units: int = 1, unit: str = "step", bounds: Limits | None = None) -> str | None:
    """What to say of a run estimated at `seconds` when that is over the limit per run (the run
    may start, and is stopped at the limit, keeping what it did); None when it fits."""
    bounds = bounds or limits()
    if seconds > bounds.job_s:
        return (f"{units:,} {unit}s would take about {seconds:,.0f} s here, longer than the {bounds.job_s:.0f} s "
                "one run may take on this server: it will stop there, keeping what it has done")
    return None


# ---------------------------------------------------------------------------------------------
# the queue


@dataclass(eq=False)
class Ticket:
    """One job's place: waiting in the queue, then running, then gone."""

    name: str
    need_bytes: int
    number: int
    running: bool = False
    started_s: float | None = None


class Gate:
    """A first-come, first-served queue in front of at most `max_jobs` jobs whose memory
    estimates sum to at most `memory_bytes` (both read from `bounds()` at every check)."""

    def __init__(self, bounds: Callable[[], Limits] = limits):
        self._bounds = bounds
        self._lock = threading.Condition()
        self._waiting: list[Ticket] = []
        self._running: list[Ticket] = []
        self._numbers = itertools.count(1)

    def too_big(self, need_bytes: int) -> bool:
        """A job that could never run: its estimate alone is over the server's total."""
        return need_bytes > self._bounds().memory_bytes

    def join(self, name: str, need_bytes: int = 0) -> Ticket:
        """Take a place at the back of the queue."""
        with self._lock:
            ticket = Ticket(name, max(0, int(need_bytes)), next(self._numbers))
            self._waiting.append(ticket)
            self._lock.notify_all()
            return ticket

    def _admissible(self, ticket: Ticket) -> bool:
        bounds = self._bounds()
        used = sum(t.need_bytes for t in self._running)
        return (bool(self._waiting) and self._waiting[0] is ticket and len(self._running) < bounds.max_jobs
                and (not self._running or used + ticket.need_bytes <= bounds.memory_bytes))

    def wait(self, ticket: Ticket, should_stop: Callable[[], bool] = lambda: False,
             on_wait: Callable[[int], None] | None = None, poll_s: float = 0.1) -> bool:
        """Block until `ticket` may run (True) or `should_stop()` (False, and the place is given up).
        `on_wait(k)` hears the ticket's number in the queue (1: next) whenever it changes."""
        told = None
        while True:
            with self._lock:
                if self._admissible(ticket):
                    self._waiting.remove(ticket)
                    ticket.running, ticket.started_s = True, time.perf_counter()
                    self._running.append(ticket)
                    return True
                if should_stop():
                    self.leave(ticket)
                    return False
                position = self.position(ticket)
            if on_wait is not None and position != told:
                told = position
                on_wait(position)
            with self._lock:
                self._lock.wait(poll_s)

    def position(self, ticket: Ticket) -> int:
        """1 for the next to run, k for the k-th waiting; 0 when running or gone."""
        with self._lock:
            return self._waiting.index(ticket) + 1 if ticket in self._waiting else 0

    def leave(self, ticket: Ticket) -> None:
        """Give the place up (a job ended, or stopped waiting)."""
        with self._lock:
            if ticket in self._waiting:
                self._waiting.remove(ticket)
            if ticket in self._running:
                self._running.remove(ticket)
            ticket.running = False
            self._lock.notify_all()

    @contextlib.contextmanager
    def place(self, name: str, need_bytes: int = 0, should_stop: Callable[[], bool] = lambda: False,
              on_wait: Callable[[int], None] | None = None) -> Iterator[bool]:
        """`with gate.place(...) as admitted:` wait for a place; admitted is False when stopped
        while waiting. The place is given up on leaving the block, whatever happens."""
        ticket = self.join(name, need_bytes)
        try:
            yield self.wait(ticket, should_stop, on_wait)
        finally:
            self.leave(ticket)

    def status(self) -> tuple[int, int, int]:
        """(running, waiting, bytes reserved by the running jobs)."""
        with self._lock:
            return len(self._running), len(self._waiting), sum(t.need_bytes for t in self._running)


_GATE = Gate()


def gate() -> Gate:
    """The server-wide queue every heavy job goes through."""
    return _GATE


# ---------------------------------------------------------------------------------------------
# stopping inside a step


class Interrupted(Exception):
    """A job's stop check became true inside a step."""


_local = threading.local()


@contextlib.contextmanager
def interruptible(check: Callable[[], bool]) -> Iterator[None]:
    """While inside, `checkpoint()` in this thread (and every torch module call) raises
    Interrupted once `check()` is true. Nested uses stop when any of their checks is true."""
    outer = getattr(_local, "check", None)
    _local.check = check if outer is None else (lambda: outer() or check())
    try:
        yield
    finally:
        _local.check = outer


def checkpoint() -> None:
    """Raise Interrupted when this thread's job was asked to stop (cheap when none is); let a
    page that is drawing have the interpreter for a moment (see courtesy)."""
    check = getattr(_local, "check", None)
    if check is not None:
        if check():
            raise Interrupted("stopped inside a step")
        courtesy()


# Pages first. Every session's page runs in a thread of the one server process, and so does
# every job; Python runs one thread at a time (the interpreter lock), handing it over every
# 5 ms to a thread that asks. A job loop holds it for a large share of those turns, so with a
# class moving sliders the pages queued behind the jobs (a p95 of 2-3 s, bench/load.py).
# Here a job gives way: while some page is drawing, every YIELD_EVERY_S of the job's own time
# it sleeps YIELD_S, long enough for a waiting page to take the lock, and it gets it back only
# when the page lets go or after the next 5 ms turn. With no page drawing it never waits.
YIELD_EVERY_S = 0.002
YIELD_S = 0.0005
_drawing = [0]              # page runs drawing now (a run waiting on its job does not count)
_drawing_lock = threading.Lock()


@contextlib.contextmanager
def page_drawing(count: int = 1) -> Iterator[None]:
    """Counts a page run as drawing while inside (count=-1: a drawing run that waits)."""
    with _drawing_lock:
        _drawing[0] += count
    try:
        yield
    finally:
        with _drawing_lock:
            _drawing[0] -= count


def pages_drawing() -> int:
    return _drawing[0]


@contextlib.contextmanager
def unpaused() -> Iterator[None]:
    """No courtesy pause inside: a timed call (a pause there would be counted as its time)."""
    outer = getattr(_local, "unpaused", False)
    _local.unpaused = True
    try:
        yield
    finally:
        _local.unpaused = outer


def courtesy() -> None:
    """In a job's thread (become_job), outside a timed call (unpaused): give the interpreter to
    drawing pages for a moment (see above)."""
    if _drawing[0] > 0 and getattr(_local, "job", False) and not getattr(_local, "unpaused", False):
        now = time.perf_counter()
        if now - getattr(_local, "yielded", 0.0) >= YIELD_EVERY_S:
            time.sleep(YIELD_S)
            _local.yielded = time.perf_counter()


def carried(fn: Callable[[], T]) -> Callable[[], T]:
    """`fn` wrapped to run under this thread's stop check in whichever thread calls it (a
    worker pool's thread), so work handed to another thread still stops inside its step."""
    check = getattr(_local, "check", None)
    if check is None:
        return fn

    def run() -> T:
        with interruptible(check):
            return fn()
    return run


def _module_hook(module: nn.Module, args: tuple) -> None:
    if not torch.compiler.is_compiling():   # a compiled graph is not checked inside
        checkpoint()


# Every module call in the process runs the check; outside `interruptible` it is one attribute
# lookup. Registered once, when this module is first imported.
_HOOK = nn.modules.module.register_module_forward_pre_hook(_module_hook)
