"""One timer for every measurement seqviz shows or prints.

Warm up first (the first call pays for allocation, kernel selection, lazy init), then
time `repeats` calls one by one and report the median, synchronising CUDA around each
call so the time is the device's, not the launch's. ``interleaved`` times several
functions in alternating rounds so that a noisy machine slows them all alike; that is
how the benchmarks compare a method against its baseline in one run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from seqviz.core import jobs

__all__ = ["Timing", "measure", "interleaved", "per_reported_step"]


@dataclass(frozen=True)
class Timing:
    """Seconds per call: the median, the fastest, and every measured call."""

    median: float
    minimum: float
    samples: tuple[float, ...]

    @property
    def median_ms(self) -> float:
        return self.median * 1000


def _sync(device: str | torch.device | None) -> None:
    """Wait for queued GPU work, so a time measures the work and not its launch."""
    kind = None if device is None else torch.device(device).type
    if kind == "cuda":
        torch.cuda.synchronize(device)
    elif kind == "mps":
        torch.mps.synchronize()


def _one(fn: Callable[[], object], device) -> float:
    jobs.courtesy()               # in a job, a drawing page's turn comes before the clock starts
    with jobs.unpaused():         # and never inside the timed call
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        return time.perf_counter() - start


def _timing(samples: Sequence[float]) -> Timing:
    return Timing(statistics.median(samples), min(samples), tuple(samples))


def measure(fn: Callable[[], object], *, repeats: int = 5, warmup: int = 1,
            device: str | torch.device | None = None,
            should_stop: Callable[[], bool] | None = None) -> Timing:
    """Time `fn` after `warmup` untimed calls; the median of `repeats` calls.

    `should_stop` is checked between calls; when it returns True the timing so far is
    returned (at least one call is always timed).
    """
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(max(1, repeats)):
        samples.append(_one(fn, device))
        if should_stop is not None and should_stop():
            break
    return _timing(samples)


def interleaved(fns: dict[str, Callable[[], object]], *, rounds: int = 5, warmup: int = 1,
                device: str | torch.device | None = None) -> dict[str, Timing]:
    """Time several functions in alternating rounds (A B C, A B C, ...), after warm-up."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(max(1, rounds)):
        for name, fn in fns.items():
            samples[name].append(_one(fn, device))
    return {name: _timing(values) for name, values in samples.items()}


def per_reported_step(run: Callable[[Callable[[object], None]], object], *, warmup: int = 1,
                      step_of: Callable[[object], int] = lambda progress: progress.step) -> Timing:
    """Seconds per step of a short training run, timed between its progress reports.

    `run(on_progress)` trains a few steps of the real configuration (a probe), calling
    `on_progress` after steps; the time between two reports divided by the steps between
    them is one sample, and the first `warmup` reports are not counted (the first steps
    pay for allocation and lazy set-up). Used to estimate a whole run before it starts.
    """
    stamps: list[tuple[int, float]] = []
    run(lambda progress: stamps.append((step_of(progress), time.perf_counter())))
    kept = stamps[max(0, warmup - 1):] if warmup > 0 else stamps
    samples = [(t2 - t1) / max(1, s2 - s1) for (s1, t1), (s2, t2) in zip(kept, kept[1:])]
    if not samples:
        raise ValueError("the probe reported fewer than two steps after its warm-up")
    return _timing(samples)
