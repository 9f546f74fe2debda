"""Eigenvalues and singular values of a recurrent matrix W_hh, and what they guarantee.

Backpropagation through time multiplies dL/dh by J_s = diag(f'(a_s)) W_hh^T at every
step back, so ||dL/dh_t|| <= ||dL/dh_T|| (gamma sigma_max)^(T-t), where sigma_max is the
largest singular value of W_hh and gamma bounds |f'| (gamma = 1 for tanh). Hence, for a
tanh RNN, sigma_max < 1 is *sufficient* for the gradient to vanish (Pascanu, Mikolov &
Bengio 2013, "On the difficulty of training recurrent neural networks", ICML, section
2.1, "The mechanics"). The eigenvalues alone guarantee nothing of the kind: |lambda| <= sigma_max
always, but a non-normal matrix can have every eigenvalue inside the unit circle and
still sigma_max > 1, so the gradient can grow for many steps before it shrinks. For
rho times an orthogonal matrix the two agree: every |lambda| and every singular value is rho.
For the LSTM and GRU the matrix here is the block that feeds the candidate; their gates
multiply the Jacobian too, so the bound is only indicative for them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from seqviz.recurrent import train as memory_train
from seqviz.recurrent.gradients import orthogonal_recurrence

__all__ = ["Spectrum", "spectrum", "fresh_recurrent_matrix"]


@dataclass(frozen=True)
class Spectrum:
    """The spectrum of one (H, H) recurrent matrix."""

    eigenvalues: np.ndarray       # complex (H,)
    singular_values: np.ndarray   # (H,), largest first

    @property
    def spectral_radius(self) -> float:
        """max |lambda|."""
        return float(np.abs(self.eigenvalues).max()) if len(self.eigenvalues) else 0.0

    @property
    def sigma_max(self) -> float:
        """The largest singular value, ||W_hh||_2."""
        return float(self.singular_values[0]) if len(self.singular_values) else 0.0

    def vanishing_guaranteed(self, gamma: float = 1.0, tolerance: float = 1e-6) -> bool:
        """sigma_max < 1 / gamma: the sufficient condition for a vanishing gradient (a value
        within `tolerance` of the bound, float32 rounding of rho = 1, does not count)."""
        return self.sigma_max < 1.0 / gamma - tolerance


def spectrum(matrix: torch.Tensor | np.ndarray) -> Spectrum:
    """Eigenvalues (numpy) and singular values (torch.linalg.svdvals), in float64."""
    W = torch.as_tensor(matrix).detach().to("cpu", torch.float64)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"a recurrent matrix is square, got shape {tuple(W.shape)}")
    return Spectrum(np.linalg.eigvals(W.numpy()), torch.linalg.svdvals(W).numpy())


@torch.no_grad()
def fresh_recurrent_matrix(kind: str, hidden: int, rho: float, seed: int) -> torch.Tensor:
    """W_hh of the fresh model the gradients page uses: rho times a random orthogonal matrix
    (seqviz.recurrent.gradients.orthogonal_recurrence), the rest drawn from the seed."""
    model = memory_train.build_model(kind, hidden, 3, seed=seed)
    return orthogonal_recurrence(model, rho, seed).recurrent_matrix().detach().clone()
