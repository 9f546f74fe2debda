"""A training loop that knows nothing of the UI (after minGPT's trainer.py callbacks).

The caller supplies one optimisation step as a function; the loop reports progress
through a callback, checks a stop flag before every step, and refuses to go on when
the loss stops being finite, so the caller can restore the last good weights.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from seqviz.core.jobs import Interrupted, interruptible

__all__ = ["Progress", "NonFiniteLoss", "train_loop", "snapshot", "restore", "autocast"]


@dataclass
class Progress:
    """Where training stands after a step."""

    step: int                  # steps done so far (1-based)
    total: int
    metrics: dict[str, float]  # this step's metrics (loss, accuracy, ...)
    elapsed_s: float
    history: list[dict[str, float]] = field(repr=False, default_factory=list)

    @property
    def fraction(self) -> float:
        return self.step / max(1, self.total)


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or infinite; training stopped at `step`."""

    def __init__(self, step: int, loss: float):
        super().__init__(f"the loss became {loss} at step {step}; training stopped "
                         "(try a smaller learning rate or gradient clipping)")
        self.step = step
        self.loss = loss


def train_loop(step_fn: Callable[[int], dict[str, float]], steps: int, *,
               on_progress: Callable[[Progress], None] | None = None,
               should_stop: Callable[[], bool] | None = None,
               report_every: int = 1) -> list[dict[str, float]]:
    """Run ``step_fn(step)`` up to `steps` times; returns the history of metrics.

    `step_fn` does one optimisation step and returns its metrics (with "loss").
    `should_stop` is checked before every step, and inside it before every torch module call
    (seqviz.core.jobs.interruptible): a step interrupted there ends the loop and is not recorded
    (an interrupted forward pass never reaches its optimiser step). `on_progress` is
    called every `report_every` steps and after the last one. Raises NonFiniteLoss.
    """
    history: list[dict[str, float]] = []
    start = time.perf_counter()
    for step in range(steps):
        if should_stop is not None and should_stop():
            break
        try:
            with interruptible(should_stop) if should_stop is not None else contextlib.nullcontext():
                metrics = step_fn(step)
        except Interrupted:
            if should_stop is not None and should_stop():
                break
            raise          # an outer check (a timing probe's time limit): the caller's to handle
        loss = float(metrics.get("loss", 0.0))
        if not math.isfinite(loss):
            raise NonFiniteLoss(step, loss)
        history.append({"step": step + 1, **{k: float(v) for k, v in metrics.items()}})
        if on_progress is not None and ((step + 1) % report_every == 0 or step + 1 == steps):
            on_progress(Progress(step + 1, steps, history[-1], time.perf_counter() - start, history))
    return history


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of the model's weights (to restore after a failed run)."""
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def restore(model: nn.Module, weights: dict[str, torch.Tensor]) -> None:
    """Put back weights taken by `snapshot`."""
    model.load_state_dict(weights)


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA (matrix work in bfloat16, reductions in float32); a no-op elsewhere."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
