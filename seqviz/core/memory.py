"""One memory-budget policy: how much memory one piece of work may take on a device.

Every job that allocates in proportion to a slider (training a model, a benchmark that
builds N x N attention matrices) asks ``check`` before it allocates. One student's job
may take at most a fixed share of what the device has free now, and never more than a
per-device ceiling, so one student cannot starve the rest of the class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from seqviz.core.device import free_memory_bytes

__all__ = ["SHARE_OF_FREE", "CPU_CEILING_BYTES", "Budget", "budget_bytes", "check", "format_bytes",
           "cuda_peak_bytes"]

SHARE_OF_FREE = 0.5          # of the memory free at the moment of asking
CPU_CEILING_BYTES = 2 << 30  # per job on a CPU server shared by a class
GPU_CEILING_BYTES = 32 << 30


@dataclass(frozen=True)
class Budget:
    """Whether `need` bytes fit the budget on a device, and a sentence saying so."""

    need: int
    limit: int
    fits: bool
    message: str


def format_bytes(n: float) -> str:
    """Bytes in the largest binary unit that keeps the number at least 1."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def budget_bytes(device: torch.device | str, cap: int | None = None) -> int:
    """The most one job may allocate on `device` now: a share of the free memory, under the
    device's ceiling and under `cap` (a user's own smaller budget) when given."""
    device = torch.device(device)
    ceiling = GPU_CEILING_BYTES if device.type == "cuda" else CPU_CEILING_BYTES
    limit = min(int(SHARE_OF_FREE * free_memory_bytes(device)), ceiling)
    return limit if cap is None else min(limit, int(cap))


def check(need: float, device: torch.device | str, what: str, cap: int | None = None) -> Budget:
    """Compare an estimate of `need` bytes for `what` with the budget on `device`."""
    limit = budget_bytes(device, cap)
    fits = need <= limit
    verdict = "fits within" if fits else "exceeds"
    message = (f"{what} needs about {format_bytes(need)}, which {verdict} the "
               f"{format_bytes(limit)} one job may use on {torch.device(device).type} now")
    return Budget(int(need), int(limit), fits, message)


def cuda_peak_bytes(fn: Callable[[], object], device: torch.device) -> int:
    """The most CUDA memory held at once while `fn()` runs, above what was held before it."""
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    fn()
    torch.cuda.synchronize(device)
    return int(torch.cuda.max_memory_allocated(device) - before)
