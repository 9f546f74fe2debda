"""Reading a memory out of the hidden state: traces and a linear probe per step.

A linear probe (Alain & Bengio 2016, "Understanding intermediate layers using linear
classifier probes") is a linear map fitted, here in closed form by ridge regression
onto one-hot targets, from h_t to the token the sequence holds. It is fitted on one
set of sequences and scored on another with the token at the same position, one
probe per step t. High probe accuracy while the readout y_t = W_hy h_t + b_y still
answers "nothing" shows that h_t carries information its output does not show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from seqviz.recurrent import cells as rnn
from seqviz.recurrent import tasks

__all__ = ["Trace", "trace", "ProbeResult", "probe_accuracy"]


@dataclass(frozen=True)
class Trace:
    """One sequence through a recurrent model, every step (numpy, time on the last axis)."""

    hidden: np.ndarray              # (H, T)
    probabilities: np.ndarray       # (C, T) softmax of y_t
    cell: np.ndarray | None         # (H, T) LSTM only
    gates: dict[str, np.ndarray]    # name -> (H, T), LSTM only


@torch.no_grad()
def trace(model: nn.Module, x: torch.Tensor) -> Trace:
    """Run one sequence x (T,) of token ids and return its states and outputs."""
    with rnn.sequential_compute():
        out = model.eval()(x.view(1, -1))                               # batch of one
    as_units_by_time = lambda t: t[0].T.float().cpu().numpy()           # (1, T, H) -> (H, T)
    return Trace(as_units_by_time(out.hidden), as_units_by_time(out.outputs.softmax(-1)),
                 None if out.cell is None else as_units_by_time(out.cell),
                 {name: as_units_by_time(g) for name, g in out.gates.items()})


@dataclass(frozen=True)
class ProbeResult:
    """Held-out accuracy per step at recovering the token (chance is 1/3)."""

    hidden: np.ndarray          # (T,) probe on h_t
    cell: np.ndarray | None     # (T,) probe on c_t (LSTM)
    output: np.ndarray          # (T,) argmax of y_t equals the token


def _fit_and_score(train_states: torch.Tensor, train_y: torch.Tensor, test_states: torch.Tensor,
                   test_y: torch.Tensor, ridge: float) -> np.ndarray:
    """Ridge regression per step, all steps at once; states (N, T, H), targets (N,) in 1..3."""
    def with_bias(s: torch.Tensor) -> torch.Tensor:
        s = s.transpose(0, 1).double()                                  # (T, N, H)
        return torch.cat([s, torch.ones_like(s[..., :1])], dim=-1)      # (T, N, H+1)

    A, B = with_bias(train_states), with_bias(test_states)
    targets = torch.nn.functional.one_hot(train_y - 1, 3).double()      # (N, 3)
    gram = A.transpose(1, 2) @ A                                        # (T, H+1, H+1)
    gram = gram + ridge * A.shape[1] * torch.eye(gram.shape[-1], dtype=gram.dtype)
    weights = torch.linalg.solve(gram, A.transpose(1, 2) @ targets)     # (T, H+1, 3)
    predicted = (B @ weights).argmax(-1) + 1                            # (T, N)
    return (predicted == test_y).double().mean(dim=1).numpy()


@torch.no_grad()
def probe_accuracy(model: nn.Module, length: int, position: int, *, seed: int = 0,
                   n_train: int = 300, n_test: int = 300, ridge: float = 1e-3) -> ProbeResult:
    """Fit a linear probe at every step on sequences with the token at `position`."""
    x_fit, y_fit = tasks.memory_task(n_train, length, seed=seed, split="val", position=position)
    x_test, y_test = tasks.memory_task(n_test, length, seed=seed, split="test", position=position)
    with rnn.sequential_compute():  # the small batched solves too: threads only cost here
        fit, test = model.eval()(x_fit), model(x_test)
        hidden = _fit_and_score(fit.hidden, y_fit, test.hidden, y_test, ridge)
        cell = (None if fit.cell is None
                else _fit_and_score(fit.cell, y_fit, test.cell, y_test, ridge))
    output = (test.outputs.argmax(-1) == y_test[:, None]).double().mean(0).numpy()  # (T,)
    return ProbeResult(hidden, cell, output)
