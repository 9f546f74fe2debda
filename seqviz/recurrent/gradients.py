"""Gradients through time: ||dL/dh_t|| for every step t from ONE backward pass.

dL/dh_t = dL/dh_T * prod_{s=t+1..T} dh_s/dh_{s-1}, and for a tanh RNN each factor is
diag(tanh'(.)) W_hh, so the norm shrinks or grows roughly geometrically with T - t.
If the largest singular value of W_hh is below 1/gamma, where gamma bounds |f'| (gamma = 1
for tanh), the gradient must vanish (Pascanu, Mikolov & Bengio 2013, "On the difficulty
of training recurrent neural networks", ICML, section 2.1, "The mechanics"); eigenvalues
inside the unit circle do not guarantee it, since a non-normal W_hh can have a spectral
radius below 1 and a largest singular value above it. The LSTM's additive cell path
c_t = f*c_{t-1} + i*g lets the gradient survive longer. For the TCN
there is no h_t per step; we report ||dL/dx_t|| at every input position instead.

All T gradients come from one backward sweep (seqviz.recurrent.bptt: for the RNN and
GRU dL/dh_{t-1} = J_t^T dL/dh_t written out from the stored activations, a few vector
operations per step; for the LSTM torch's fused LSTM backward, whose extra zero input
carries dL/dh_{t-1}), equal to autograd; the TCN's from one autograd backward pass. The
work runs on a single-threaded loop thread (cells.run_sequential).
`hidden_grad_norms_per_step` is the slow reference, one autograd backward per step,
used by the tests and bench/gradients.py.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from seqviz.core import rng
from seqviz.recurrent import bptt, tasks
from seqviz.recurrent import cells as rnn
from seqviz.recurrent.tcn import TCN
from seqviz.recurrent.train import build_model

__all__ = ["GradientProfile", "gradient_profile", "hidden_grad_norms",
           "hidden_grad_norms_per_step", "orthogonal_recurrence", "memory_horizon",
           "GradientReading", "read_gradient", "GRADIENT_KINDS"]

GRADIENT_KINDS = rnn.RECURRENT_KINDS + ("tcn",)


@dataclass(frozen=True)
class GradientProfile:
    """Gradient norms along a sequence, and what the page reads off them."""

    kind: str
    norms: np.ndarray          # (T,) ||dL/dh_t|| (TCN: ||dL/dx_t||)
    parameter_grad_norm: float  # ||dL/dtheta|| over all weights, what clipping looks at
    eigenvalues: np.ndarray    # complex (H,) of the recurrent matrix; empty for the TCN

    def clip_factor(self, max_norm: float | None) -> float | None:
        """The factor clipping to `max_norm` multiplies the gradient by; None when clipping
        leaves it alone or cannot rescale it (a non-finite ||dL/dtheta||, see `clipped`)."""
        if not max_norm or not math.isfinite(self.parameter_grad_norm):
            return None
        if self.parameter_grad_norm <= max_norm:
            return None
        return max_norm / self.parameter_grad_norm

    def clipped(self, max_norm: float | None) -> np.ndarray:
        """Norms after clipping the whole gradient to `max_norm` (a uniform rescale).

        When ||dL/dtheta|| is not finite there is no finite factor: torch's
        clip_grad_norm_ would turn the update into zeros and NaNs. The norms are then
        returned unchanged, and `read_gradient` flags the profile as not finite."""
        factor = self.clip_factor(max_norm)
        return self.norms if factor is None else self.norms * factor


@torch.no_grad()
def orthogonal_recurrence(model: nn.Module, rho: float, seed: int) -> nn.Module:
    """Set every (H, H) block of the recurrent weights to rho times a random orthogonal matrix
    drawn from a generator seeded with `seed`."""
    generator = rng.torch_generator(seed)
    H = model.hidden_size
    if isinstance(model, rnn.RNN):
        blocks = model.cell.W_hh.weight.view(1, H, H)                   # (1, H, H)
    elif isinstance(model, rnn.LSTM):
        blocks = model.cell.W_gates.weight[:, model.cell.input_size:].view(4, H, H)
    elif isinstance(model, rnn.GRU):
        blocks = model.cell.W_hh.weight.view(3, H, H)                   # (3, H, H)
    else:
        return model
    for block in blocks:
        q, r = torch.linalg.qr(torch.randn(H, H, generator=generator))
        block.copy_(rho * q * torch.sign(torch.diagonal(r)))           # Haar-distributed Q
    if isinstance(model, rnn.LSTM):
        model.cell.W_gates.weight[:, model.cell.input_size:] = blocks.reshape(4 * H, H)
    return model


def _prepare(kind: str, length: int, hidden: int, rho: float, seed: int,
             model: nn.Module | None, device: str, forget_bias: float | None = None,
             trainable: bool = False) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """The model (fresh from `seed`, or `model`) on `device`, and one test sequence.

    A given model is used as it is when nothing needs to change; it is copied when it
    must move to another device or take gradients (`trainable`): a shared eval-mode
    model may have its weights frozen, and it is never modified here."""
    if model is None:
        model = orthogonal_recurrence(build_model(kind, hidden, length, seed=seed), rho, seed)
        if forget_bias is not None and isinstance(model, rnn.LSTM):
            with torch.no_grad():
                model.cell.W_gates.bias[hidden:2 * hidden] = forget_bias  # f = sigmoid(.+b_f)
    elif trainable or next(model.parameters()).device != torch.device(device):
        model = copy.deepcopy(model).requires_grad_(True)
    model = model.to(device).eval()
    x, y = tasks.memory_task(1, length, seed=seed, split="test")
    return model, x.to(device), y.to(device)


def gradient_profile(kind: str, length: int, hidden: int, *, rho: float = 1.0, seed: int = 0,
                     device: str = "cpu", model: nn.Module | None = None,
                     forget_bias: float | None = None) -> GradientProfile:
    """One sequence, loss = cross-entropy of the final answer, one backward pass.

    Fresh weights unless `model` is given: recurrent blocks rho * orthogonal, and for
    the LSTM the forget-gate bias set to `forget_bias` when given."""
    return rnn.run_sequential(
        lambda: _gradient_profile(kind, length, hidden, rho, seed, device, model, forget_bias), device)


def _gradient_profile(kind: str, length: int, hidden: int, rho: float, seed: int, device: str,
                      model: nn.Module | None, forget_bias: float | None,
                      with_parameters: bool = True) -> GradientProfile:
    tcn = kind == "tcn" if model is None else isinstance(model, TCN)
    model, x, y = _prepare(kind, length, hidden, rho, seed, model, device, forget_bias, trainable=tcn)
    if tcn:
        params = list(model.parameters()) if with_parameters else []
        inputs = [rnn.one_hot(x).requires_grad_(True)]                 # (1, T, D)
        loss = F.cross_entropy(model(inputs[0]).outputs[:, -1], y)
        grads = torch.autograd.grad(loss, inputs + params)
        hidden_grads = grads[0][0]                                      # (T, D)
        parameter_grads = list(grads[1:])
        eigenvalues = np.zeros(0, dtype=complex)
    else:
        result = bptt.backprop_through_time(model, x, y, parameters=with_parameters)
        hidden_grads = result.hidden_grads                              # (T, H)
        parameter_grads = list(result.parameter_grads.values()) if with_parameters else []
        eigenvalues = np.linalg.eigvals(model.recurrent_matrix().detach().double().cpu().numpy())
    # norms in float64: squaring float32 entries below 1e-19 would underflow to 0
    norms = hidden_grads.double().norm(dim=-1)                          # (T,)
    parameter_norm = math.sqrt(sum(float(g.double().pow(2).sum()) for g in parameter_grads))
    return GradientProfile(kind, norms.cpu().numpy(), parameter_norm, eigenvalues)


def hidden_grad_norms(kind: str, length: int, hidden: int, *, rho: float = 1.0, seed: int = 0,
                      device: str = "cpu", model: nn.Module | None = None,
                      forget_bias: float | None = None) -> np.ndarray:
    """||dL/dh_t|| for t = 0..length-1 (TCN: ||dL/dx_t||), from one backward pass.

    Only the hidden states' gradients are computed, not the weights'."""
    return rnn.run_sequential(lambda: _gradient_profile(
        kind, length, hidden, rho, seed, device, model, forget_bias, with_parameters=False).norms, device)


def hidden_grad_norms_per_step(kind: str, length: int, hidden: int, *, rho: float = 1.0,
                               seed: int = 0, device: str = "cpu",
                               forget_bias: float | None = None) -> np.ndarray:
    """The slow reference: one autograd backward pass per step, through the model's own
    forward (the TCN: one per input position)."""
    def per_step() -> np.ndarray:
        model, x, y = _prepare(kind, length, hidden, rho, seed, None, device, forget_bias)
        if isinstance(model, TCN):
            steps = list(rnn.one_hot(x)[0].unbind(0))                   # T x (D,), each a leaf
            for step in steps:
                step.requires_grad_(True)
            logits = model(torch.stack(steps).unsqueeze(0)).outputs     # (1, 1, C)
        else:
            out = model(x)
            steps, logits = out.hidden_steps, out.outputs
        loss = F.cross_entropy(logits[:, -1], y)
        norms = []
        for h in steps:
            (grad,) = torch.autograd.grad(loss, h, retain_graph=True)
            norms.append(float(grad.double().norm()))
        return np.array(norms)

    return rnn.run_sequential(per_step, device)


def memory_horizon(norms: np.ndarray, factor: float = 1000.0) -> int | None:
    """Steps back from the loss until ||dL/dh_t|| falls below 1/factor of its value at
    the last step; None when it never does within the sequence."""
    norms = np.asarray(norms, dtype=float)
    below = np.nonzero(norms[::-1] < norms[-1] / factor)[0]             # distances from the end
    return int(below[0]) if len(below) else None


@dataclass(frozen=True)
class GradientReading:
    """What the page may say about one gradient profile.

    state: "fades" (a horizon was found), "grows" (never 1000x smaller, and somewhere
    1000x larger than at the loss: it explodes), "holds" (neither), "zero" (exactly 0 at
    the loss end: nothing flows back at all, so there is no horizon), "not finite" (an
    inf or NaN among the norms). `parameter_overflow`: ||dL/dtheta||, what clipping
    looks at, is not finite in float32 even though the norms per step may be."""

    state: str
    horizon: int | None        # steps back to a 1000x drop, when state is "fades"
    length: int
    zero_steps: int            # steps whose gradient is exactly 0
    nonfinite_steps: int       # steps whose norm is inf or NaN
    growth: float              # max ||dL/dh_t|| / ||dL/dh_T|| (nan when undefined)
    parameter_overflow: bool

    @property
    def flagged(self) -> bool:
        """True when no horizon can be read: exactly zero, not finite, or ||dL/dtheta|| overflows."""
        return self.state in ("zero", "not finite") or self.parameter_overflow

    @property
    def label(self) -> str:
        return {"fades": f"{self.horizon} steps", "holds": f"> {self.length - 1} steps",
                "grows": f"grows ×{self.growth:.0e}", "zero": "no gradient (exactly 0)",
                "not finite": "not finite"}[self.state]

    @property
    def note(self) -> str:
        """A short flag for a legend: what is wrong with this profile."""
        if self.state in ("zero", "not finite"):
            return self.label
        return "‖∂L/∂θ‖ = inf" if self.parameter_overflow else ""

    @property
    def explanation(self) -> str:
        parts = []
        if self.state == "zero":
            parts.append(r"$\partial L / \partial h$ is exactly 0 at the last step, so nothing reaches any "
                         "earlier step: "
                         "the softmax is saturated (the answer is certain in float32) or every unit "
                         "is switched off.")
        elif self.state == "not finite":
            parts.append(f"{self.nonfinite_steps} of {self.length} steps have an infinite or NaN "
                         "gradient: the values exploded.")
        elif self.zero_steps:
            parts.append(f"{self.zero_steps} of {self.length} steps received exactly 0 (below "
                         "float32's smallest number): nothing reaches them.")
        if self.parameter_overflow:
            parts.append(r"$\lVert \partial L / \partial \theta \rVert$, the norm clipping looks at, overflows "
                         "float32: there is no finite "
                         "factor to rescale by, and a training step would turn the weights into NaN.")
        return " ".join(parts)


def read_gradient(profile: GradientProfile, factor: float = 1000.0) -> GradientReading:
    """Classify a profile: a horizon, growth, "> T - 1", exactly zero, or not finite."""
    norms = np.asarray(profile.norms, dtype=float)
    nonfinite = int(np.count_nonzero(~np.isfinite(norms)))
    zeros = int(np.count_nonzero(norms == 0))
    length = len(norms)
    overflow = not math.isfinite(profile.parameter_grad_norm)
    if nonfinite:
        return GradientReading("not finite", None, length, zeros, nonfinite, math.nan, overflow)
    if length == 0 or norms[-1] == 0:
        return GradientReading("zero", None, length, zeros, 0, math.nan, overflow)
    growth = float(norms.max() / norms[-1])
    horizon = memory_horizon(norms, factor)
    state = "fades" if horizon is not None else "grows" if growth >= factor else "holds"
    return GradientReading(state, horizon, length, zeros, 0, growth, overflow)
