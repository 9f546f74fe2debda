"""Memory-task training results as frozen records: evaluation points and trained runs.

seqviz.recurrent.train.train_memory_model returns its evaluation history as rows of
metrics; the pages and figures read them as `EvalPoint`s. A `MemoryRun` is one model
trained in a session: its config, the model (on the CPU, so every reader uses it where
it is), its history, and how far it got (all its steps, or stopped at step k).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn

from seqviz.recurrent import train as memory_train

__all__ = ["EvalPoint", "MemoryRun", "history_from_rows", "shipped_history", "cpu_copy"]


@dataclass(frozen=True)
class EvalPoint:
    """The metrics at one evaluation during training (final answer only)."""

    step: int
    train_loss: float       # this step's training batch
    train_accuracy: float
    val_loss: float         # the fixed validation set
    val_accuracy: float

    @classmethod
    def from_row(cls, row: Mapping[str, float]) -> EvalPoint:
        return cls(int(row["step"]), float(row["train_loss"]), float(row["train_accuracy"]),
                   float(row["val_loss"]), float(row["val_accuracy"]))


def history_from_rows(rows: Iterable[Mapping[str, float]]) -> tuple[EvalPoint, ...]:
    """A training history (rows with step, train_loss, ...) as frozen points."""
    return tuple(EvalPoint.from_row(row) for row in rows)


@lru_cache(maxsize=16)
def shipped_history(task: str, kind: str) -> tuple[EvalPoint, ...]:
    """The evaluation history recorded when the shipped checkpoint was trained."""
    histories = json.loads(memory_train.HISTORY_FILE.read_text())["histories"]
    return history_from_rows(histories[task][kind])


def cpu_copy(model: nn.Module) -> nn.Module:
    """The model on the CPU in eval mode: itself if it is there already, else a copy
    (the trained original is never moved from under whoever holds it)."""
    on_cpu = all(p.device.type == "cpu" for p in model.parameters())
    return (model if on_cpu else copy.deepcopy(model).to("cpu")).eval()


@dataclass(frozen=True)
class MemoryRun:
    """One model trained on a memory task in this session."""

    config: memory_train.MemoryConfig
    model: nn.Module                  # on the CPU, eval mode
    history: tuple[EvalPoint, ...]
    steps_done: int
    error: str | None = None          # the loss stopped being finite (weights before it kept)

    @property
    def stopped(self) -> bool:
        """Ended before its last step (Stop pressed, or a failure)."""
        return self.steps_done < self.config.steps

    @property
    def final(self) -> EvalPoint | None:
        return self.history[-1] if self.history else None

    @property
    def status(self) -> str:
        if self.error:
            return f"failed at step {self.steps_done:,} of {self.config.steps:,}"
        if self.stopped:
            return f"stopped at step {self.steps_done:,} of {self.config.steps:,}"
        return f"{self.config.steps:,} steps"

    @torch.no_grad()
    def answer(self, x: torch.Tensor) -> torch.Tensor:
        """Class probabilities of the final answer for token ids x (B, T) on the CPU."""
        return self.model(x).outputs[:, -1].softmax(-1)
