"""Measured cost of self-attention over every pixel against a k x k convolution.

An H x W image flattened to N = H W tokens of C channels: single-head self-attention
builds the N x N score matrix, O(N^2 C) time and O(N^2) memory (Vaswani et al. 2017,
table 1); a k x k convolution with C in and C out channels is O(N k^2 C^2), linear in
N. The attention here is written out (Q K^T, softmax, times V) so that the N x N
matrix really exists, as in a plain implementation. No UI here: the caller passes a
progress callback and a should_stop flag (minGPT trainer-style callbacks).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from seqviz.core.device import free_memory_bytes

__all__ = ["CostSettings", "sweep_sides", "attention_matrix_bytes", "measure_costs", "measure_costs_cacheable",
           "fit_slope", "theory_flops", "BenchmarkStopped"]

BYTES = 4  # float32
SIDES = (8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)


class BenchmarkStopped(Exception):
    """The caller's should_stop returned True; nothing partial is returned (or cached)."""


@dataclass(frozen=True)
class CostSettings:
    """One sweep: image sides up to `max_side`, C channels, a k x k kernel, timing repeats,
    and the largest N x N matrix (bytes) the sweep may allocate."""

    max_side: int = 64
    channels: int = 32
    kernel: int = 3
    repeats: int = 5
    warmup: int = 1
    memory_budget: int = 1 << 30
    min_side: int = 8


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


def _synchronise(device: torch.device) -> None:
    """Wait for queued GPU work, so that a timer measures the work and not its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def _time(fn: Callable[[], torch.Tensor], device: torch.device, warmup: int, repeats: int,
          should_stop: Callable[[], bool]) -> float:
    """Median wall time of fn in milliseconds, after at least `warmup` untimed calls, and
    more (up to 10) while each call is still faster than the one before: a process's first
    calls pay one-off set-up costs (thread pools, kernel selection) that are not the work."""
    previous = math.inf
    for count in range(10):
        start = time.perf_counter()
        fn()
        _synchronise(device)
        elapsed = time.perf_counter() - start
        if count + 1 >= warmup and elapsed >= 0.8 * previous:
            break
        previous = elapsed
    times = []
    for _ in range(repeats):
        if should_stop():
            raise BenchmarkStopped
        start = time.perf_counter()
        fn()
        _synchronise(device)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _peak(fn: Callable[[], torch.Tensor], device: torch.device, estimate: int) -> tuple[int, str]:
    """Peak bytes of one call: measured on CUDA, else the estimate from tensor sizes."""
    if device.type != "cuda":
        return estimate, "estimated from tensor sizes"
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    fn()
    _synchronise(device)
    return torch.cuda.max_memory_allocated(device) - before, "torch.cuda.max_memory_allocated"


@torch.inference_mode()
def measure_costs(settings: CostSettings, device: str | torch.device = "cpu",
                  progress: Callable[[float, str], None] | None = None,
                  should_stop: Callable[[], bool] | None = None) -> list[dict]:
    """Time attention and convolution on each image side; one dict per side.

    A side whose attention tensors would exceed the memory budget or the free memory
    is skipped with a note (never allocated); an out-of-memory error is caught and
    noted the same way. Raises BenchmarkStopped when should_stop() turns True.
    """
    device = torch.device(device)
    progress = progress or (lambda fraction, text: None)
    should_stop = should_stop or (lambda: False)
    generator = torch.Generator().manual_seed(0)
    C, k = settings.channels, settings.kernel
    conv = nn.Conv2d(C, C, k, padding=k // 2).to(device)
    W_q, W_k, W_v = (torch.randn(C, C, generator=generator).to(device) / math.sqrt(C)
                     for _ in range(3))
    sides, rows = sweep_sides(settings), []
    for index, side in enumerate(sides):
        progress(index / len(sides), f"side {side} ({side * side:,} tokens)")
        if should_stop():
            raise BenchmarkStopped
        n = side * side
        need = attention_matrix_bytes(side, C)
        row = {"side": side, "tokens N": n, "attention ms": np.nan, "conv ms": np.nan,
               "attention peak MiB": need / 2**20,
               "conv peak MiB": conv_bytes(side, C, k) / 2**20, "memory": "", "note": ""}
        limit = min(settings.memory_budget, free_memory_bytes(device) // 2)
        if conv_bytes(side, C, k) > limit:
            row["note"] = f"skipped both: even the image needs more than {limit / 2**20:,.0f} MiB"
            rows.append(row)
            continue
        image = torch.randn(1, C, side, side, generator=generator).to(device)  # (1, C, H, W)
        tokens = image.flatten(2).transpose(1, 2)[0].contiguous()             # (N, C)

        def attend() -> torch.Tensor:
            q, k_, v = tokens @ W_q, tokens @ W_k, tokens @ W_v                # (N, C)
            weights = torch.softmax(q @ k_.T / math.sqrt(C), dim=-1)          # (N, N)
            return weights @ v                                                # (N, C)

        def convolve() -> torch.Tensor:
            return conv(image)                                                # (1, C, H, W)

        for name, fn, estimate, fits in (
                ("conv", convolve, conv_bytes(side, C, k), True),
                ("attention", attend, need, need <= limit)):
            if not fits:  # never allocate what cannot fit: say so instead
                row["note"] = (f"attention skipped: its N × N matrices need {need / 2**20:,.0f} MiB, "
                               f"more than the {limit / 2**20:,.0f} MiB allowed")
                continue
            try:
                row[f"{name} ms"] = _time(fn, device, settings.warmup, settings.repeats, should_stop)
                peak, row["memory"] = _peak(fn, device, estimate)
                row[f"{name} peak MiB"] = peak / 2**20
            except torch.OutOfMemoryError:
                if device.type == "cuda":
                    torch.cuda.empty_cache()
                row[f"{name} ms"] = np.nan
                row["note"] = f"{name} skipped: ran out of memory while running"
        rows.append(row)
    progress(1.0, "done")
    return rows


def fit_slope(tokens: np.ndarray, milliseconds: np.ndarray, points: int = 4,
              floor_ms: float = 0.2) -> float:
    """Slope of log(time) against log(N) over the largest `points` sizes that took at least
    `floor_ms` (below that a call is mostly fixed overhead, flat in N); NaN with fewer
    than 2 such points."""
    tokens, milliseconds = np.asarray(tokens, float), np.asarray(milliseconds, float)
    keep = np.isfinite(milliseconds) & (milliseconds >= floor_ms)
    tokens, milliseconds = tokens[keep][-points:], milliseconds[keep][-points:]
    if len(tokens) < 2:
        return float("nan")
    return float(np.polyfit(np.log(tokens), np.log(milliseconds), 1)[0])


def measure_costs_cacheable(settings: CostSettings, device: str = "cpu",
                            _progress: Callable[[float, str], None] | None = None,
                            _should_stop: Callable[[], bool] | None = None) -> list[dict]:
    """measure_costs with the callbacks named with a leading underscore, which is how a
    memoising wrapper such as st.cache_data knows to leave them out of its key."""
    return measure_costs(settings, device, _progress, _should_stop)
