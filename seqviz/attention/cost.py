"""Measured cost of self-attention over every pixel against a k x k convolution.

An H x W image flattened to N = H W tokens of C channels: single-head self-attention
builds the N x N score matrix, O(N^2 C) time and O(N^2) memory (Vaswani et al. 2017,
table 1); a k x k convolution with C in and C out channels is O(N k^2 C^2), linear in
N. The attention is seqviz's one `attention` function on its explicit path, so the
N x N weight matrix really exists, as in a plain implementation. Every call is timed
by seqviz.core.timing, and what fits is decided by seqviz.core.memory. No UI here:
the caller passes a progress callback and a should_stop flag (minGPT trainer-style
callbacks).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from seqviz.attention.attention import attention
from seqviz.core import memory, rng, timing

__all__ = ["CostSettings", "CostRow", "CostSweep", "OutOfOrder", "BenchmarkStopped", "sweep_sides",
           "attention_matrix_bytes", "conv_bytes", "measure_costs", "fit_slope", "theory_flops",
           "estimate_costs", "CostEstimate", "METHODS"]

BYTES = 4  # float32
SIDES = (8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
METHODS = ("attention", "convolution")
WARM_UP_CALLS = (3, 20)  # at least, at most: untimed calls of each method before the sweep


class BenchmarkStopped(Exception):
    """The caller's should_stop returned True; `partial` holds the sizes measured before
    (a CostSweep marked `stopped`, or None when the warm-up had not finished)."""

    def __init__(self, partial: CostSweep | None = None):
        super().__init__("stopped")
        self.partial = partial


@dataclass(frozen=True)
class CostSettings:
    """One sweep: image sides up to `max_side`, C channels, a k x k kernel, timing repeats,
    the largest memory one size may take (bytes; the memory policy may allow less), and
    the seed of the random weights and images."""

    max_side: int = 64
    channels: int = 64
    kernel: int = 3
    repeats: int = 5
    warmup: int = 1
    memory_budget: int = 1 << 30
    min_side: int = 8
    seed: int = 0


@dataclass(frozen=True)
class CostRow:
    """One image side: the median and fastest time of each method (NaN when it was not
    run), its peak memory, how that peak was obtained, and why anything was skipped."""

    side: int
    tokens: int
    attention_ms: float
    attention_fastest_ms: float
    conv_ms: float
    conv_fastest_ms: float
    attention_peak_bytes: float
    conv_peak_bytes: float
    memory_source: str
    note: str = ""


@dataclass(frozen=True)
class OutOfOrder:
    """A smaller image side whose fastest call took longer than a larger side's."""

    smaller_side: int
    smaller_ms: float
    larger_side: int
    larger_ms: float


@dataclass(frozen=True)
class CostSweep:
    """A whole sweep: its settings, the device, one row per side, and the time of the
    first (cold) call of each method, paid before the first measured size."""

    settings: CostSettings
    device: str
    rows: tuple[CostRow, ...]
    attention_cold_ms: float
    conv_cold_ms: float
    stopped: bool = False   # Stop came before every size was measured: the rows are the ones done

    @property
    def tokens(self) -> np.ndarray:
        return np.array([r.tokens for r in self.rows], dtype=float)

    def milliseconds(self, method: str, statistic: str = "fastest") -> np.ndarray:
        """Times of "attention" or "convolution", one per side (NaN where skipped): the
        fastest of the repeats (other work on a shared machine only ever adds time, so the
        fastest call is the closest to the work itself) or their median."""
        prefix = {"attention": "attention", "convolution": "conv"}[method]
        suffix = {"fastest": "fastest_ms", "median": "ms"}[statistic]
        return np.array([getattr(r, f"{prefix}_{suffix}") for r in self.rows], dtype=float)

    def slope(self, method: str) -> float:
        """The fitted exponent p of time ∝ N^p over the fastest calls (see fit_slope)."""
        return fit_slope(self.tokens, self.milliseconds(method))

    def out_of_order(self, method: str, tolerance: float = 1.5) -> OutOfOrder | None:
        """The first pair of sides where the smaller one's fastest call took more than
        `tolerance` times the larger one's, or None. More work never takes less time, so
        such a pair means other work on the machine slowed the smaller size down, and a
        slope fitted through it says little."""
        times = self.milliseconds(method)
        for i, j in itertools.combinations(range(len(times)), 2):
            if np.isfinite(times[i]) and np.isfinite(times[j]) and times[i] > tolerance * times[j]:
                return OutOfOrder(self.rows[i].side, float(times[i]), self.rows[j].side, float(times[j]))
        return None


def sweep_sides(settings: CostSettings) -> list[int]:
    """Image sides from min_side to max_side, about x1.5 apart."""
    sides = [s for s in SIDES if settings.min_side <= s <= settings.max_side]
    return sides or [settings.max_side]


def attention_matrix_bytes(side: int, channels: int) -> int:
    """Bytes of the attention's tensors at its peak: scores and weights (2 N^2) plus
    x, q, k, v and the output (5 N C), float32."""
    n = side * side
    return BYTES * (2 * n * n + 5 * n * channels)


def conv_bytes(side: int, channels: int, kernel: int) -> int:
    """Bytes of the convolution's input, output and weights, float32."""
    n = side * side
    return BYTES * (2 * n * channels + kernel * kernel * channels * channels + channels)


def theory_flops(side: int, channels: int, kernel: int) -> tuple[float, float]:
    """Multiply-adds x 2 of (attention, convolution): 4 N^2 C and 2 N k^2 C^2."""
    n = side * side
    return 4.0 * n * n * channels, 2.0 * n * kernel * kernel * channels * channels


def _peak(fn: Callable[[], torch.Tensor], device: torch.device, estimate: int) -> tuple[float, str]:
    """Peak bytes of one call: measured on CUDA, else the estimate from tensor sizes."""
    if device.type != "cuda":
        return float(estimate), "estimated from tensor sizes"
    return float(memory.cuda_peak_bytes(fn, device)), "torch.cuda.max_memory_allocated"


def _warm_up(fn: Callable[[], object], device: torch.device, stop: Callable[[], bool]) -> float:
    """Call `fn` until it stops getting faster (at least WARM_UP_CALLS[0] calls, at most
    WARM_UP_CALLS[1]); return the first call's milliseconds. A process's first calls pay
    one-off costs (thread pools, kernel and algorithm selection) that are not the work."""
    first, best = math.nan, math.inf
    for count in range(WARM_UP_CALLS[1]):
        if stop():
            raise BenchmarkStopped
        elapsed = timing.measure(fn, repeats=1, warmup=0, device=device).median
        first = elapsed if count == 0 else first
        if count + 1 >= WARM_UP_CALLS[0] and elapsed >= 0.9 * best:
            break
        best = min(best, elapsed)
    return first * 1000


@torch.inference_mode()
def measure_costs(settings: CostSettings, device: str | torch.device = "cpu",
                  progress: Callable[[float, str], None] | None = None,
                  should_stop: Callable[[], bool] | None = None,
                  on_row: Callable[[CostRow], None] | None = None) -> CostSweep:
    """Time attention and convolution on each image side; one CostRow per side.

    Both methods are warmed up on the smallest side before anything is timed. A side
    whose tensors would exceed the memory budget (seqviz.core.memory.check, capped by
    settings.memory_budget) is skipped with a note, never allocated; an out-of-memory
    error is caught and noted the same way. should_stop is asked before every timed
    call; when it returns True, BenchmarkStopped is raised, holding the sizes measured so
    far, and nothing more runs. `on_row` receives each size's row as soon as it is measured.
    """
    device = torch.device(device)
    progress = progress or (lambda fraction, text: None)
    stopped = False

    def stop() -> bool:
        nonlocal stopped
        stopped = stopped or bool(should_stop is not None and should_stop())
        return stopped

    generator = rng.torch_generator(settings.seed)
    C, k = settings.channels, settings.kernel
    conv = nn.Conv2d(C, C, k, padding=k // 2, device="meta").to_empty(device="cpu")  # no global draw
    conv = rng.init_parameters(conv, generator).to(device)
    W_q, W_k, W_v = (rng.normal((C, C), generator, std=1 / math.sqrt(C)).to(device) for _ in range(3))

    def methods(side: int) -> dict[str, Callable[[], torch.Tensor]]:
        image = torch.randn(1, C, side, side, generator=generator).to(device)  # (1, C, H, W)
        tokens = image.flatten(2).transpose(1, 2)[0].contiguous()              # (N, C)

        def attend() -> torch.Tensor:
            output, _ = attention(tokens @ W_q, tokens @ W_k, tokens @ W_v)     # (N, C), weights (N, N)
            return output

        return {"convolution": lambda: conv(image), "attention": attend}      # (1, C, H, W), (N, C)

    sides = sweep_sides(settings)
    progress(0.0, "warming up")
    first = methods(sides[0])
    cold = {name: _warm_up(fn, device, stop) for name, fn in first.items()}
    rows: list[CostRow] = []

    def stopped_here() -> BenchmarkStopped:
        return BenchmarkStopped(CostSweep(settings, str(device), tuple(rows), cold["attention"],
                                          cold["convolution"], stopped=True))

    for index, side in enumerate(sides):
        progress(index / len(sides), f"side {side} ({side * side:,} tokens)")
        if stop():
            raise stopped_here()
        needs = {"attention": attention_matrix_bytes(side, C), "convolution": conv_bytes(side, C, k)}
        budgets = {name: memory.check(need, device, f"{name} at {side} × {side}", cap=settings.memory_budget)
                   for name, need in needs.items()}
        times = {name: (math.nan, math.nan) for name in METHODS}
        peaks = {name: float(need) for name, need in needs.items()}
        source, note = "estimated from tensor sizes", ""
        if not budgets["convolution"].fits:
            note = f"skipped both: {budgets['convolution'].message}"
        else:
            for name, fn in methods(side).items():
                if not budgets[name].fits:  # never allocate what cannot fit: say so instead
                    note = f"{name} skipped: {budgets[name].message}"
                    continue
                if stop():
                    raise stopped_here()
                try:
                    measured = timing.measure(fn, repeats=settings.repeats, warmup=settings.warmup,
                                              device=device, should_stop=stop)
                    if stopped:
                        raise stopped_here()
                    times[name] = (measured.median * 1000, measured.minimum * 1000)
                    peaks[name], source = _peak(fn, device, needs[name])
                except torch.OutOfMemoryError:
                    if device.type == "cuda":
                        torch.cuda.empty_cache()
                    note = f"{name} skipped: ran out of memory while running"
        rows.append(CostRow(side=side, tokens=side * side,
                            attention_ms=times["attention"][0], attention_fastest_ms=times["attention"][1],
                            conv_ms=times["convolution"][0], conv_fastest_ms=times["convolution"][1],
                            attention_peak_bytes=peaks["attention"], conv_peak_bytes=peaks["convolution"],
                            memory_source=source, note=note))
        if on_row is not None:
            on_row(rows[-1])
    progress(1.0, "done")
    return CostSweep(settings=settings, device=str(device), rows=tuple(rows),
                     attention_cold_ms=cold["attention"], conv_cold_ms=cold["convolution"])


@dataclass(frozen=True)
class CostEstimate:
    """The time a sweep will take, from calls of each method timed now at `probe_side`."""

    probe_side: int
    attention_s: float        # one call at the probe side: the median of 3, after warming up
    conv_s: float
    calls_per_size: int       # warm-up + repeats
    seconds_per_side: tuple[tuple[int, float], ...]

    @property
    def seconds(self) -> float:
        return sum(seconds for _, seconds in self.seconds_per_side)


@torch.inference_mode()
def estimate_costs(settings: CostSettings, device: str | torch.device = "cpu", probe_side: int = 24
                   ) -> CostEstimate:
    """Estimate `measure_costs(settings)`: each method warmed up as the sweep does, then the
    median of 3 calls timed now at the largest swept side up to `probe_side`, scaled to every side by theory:
    attention by N^2, convolution by N (sides below the probe keep its time, as a call has a
    fixed cost), times the calls each size makes; sizes that will not fit count nothing; the
    warm-up before the sweep counts as WARM_UP_CALLS[0] calls at the smallest side."""
    device = torch.device(device)
    sides = sweep_sides(settings)
    side = max([s for s in sides if s <= probe_side] or [sides[0]])
    generator = rng.torch_generator(settings.seed)
    C, k = settings.channels, settings.kernel
    image = torch.randn(1, C, side, side, generator=generator).to(device)  # (1, C, H, W)
    tokens = image.flatten(2).transpose(1, 2)[0].contiguous()              # (N, C)
    conv = nn.Conv2d(C, C, k, padding=k // 2, device="meta").to_empty(device="cpu")
    conv = rng.init_parameters(conv, generator).to(device)
    W = rng.normal((C, C), generator, std=1 / math.sqrt(C)).to(device)
    calls = {"attention": lambda: attention(tokens @ W, tokens @ W, tokens @ W), "convolution": lambda: conv(image)}
    for fn in calls.values():      # as the sweep does: first calls pay one-off costs that are not the work
        _warm_up(fn, device, lambda: False)
    times = {name: timing.measure(fn, repeats=3, warmup=0, device=device).median for name, fn in calls.items()}
    per_size = settings.warmup + settings.repeats + (1 if device.type == "cuda" else 0)
    per_side = []
    for s in sides:
        ratio = (s * s) / (side * side)
        fits = {name: memory.check(need, device, name, cap=settings.memory_budget).fits for name, need in
                {"attention": attention_matrix_bytes(s, C), "convolution": conv_bytes(s, C, k)}.items()}
        seconds = 0.0
        if fits["convolution"]:
            seconds += per_size * times["convolution"] * max(1.0, ratio)
            if fits["attention"]:
                seconds += per_size * times["attention"] * max(1.0, ratio ** 2)
        per_side.append((s, seconds))
    first = min(1.0, (sides[0] / side) ** 2)
    warm = WARM_UP_CALLS[0] * (times["attention"] * first ** 2 + times["convolution"] * first)
    per_side[0] = (per_side[0][0], per_side[0][1] + warm)
    return CostEstimate(side, times["attention"], times["convolution"], per_size, tuple(per_side))


def fit_slope(tokens: np.ndarray, milliseconds: np.ndarray, points: int = 4,
              overhead_ratio: float = 2.0) -> float:
    """Slope of log(time) against log(N) over the largest `points` sizes that took at least
    `overhead_ratio` times the fastest size (a call's fixed cost, flat in N, is about the
    time of the smallest sizes; below twice that a call is mostly overhead); NaN with
    fewer than 2 such points. Relative, so it works alike on a laptop, a server and a GPU."""
    tokens, milliseconds = np.asarray(tokens, float), np.asarray(milliseconds, float)
    measured = np.isfinite(milliseconds)
    if not measured.any():
        return float("nan")
    keep = measured & (milliseconds >= overhead_ratio * milliseconds[measured].min())
    tokens, milliseconds = tokens[keep][-points:], milliseconds[keep][-points:]
    if len(tokens) < 2:
        return float("nan")
    return float(np.polyfit(np.log(tokens), np.log(milliseconds), 1)[0])
