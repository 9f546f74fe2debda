"""Gradients through time: ||dL/dh_t|| for every step t from ONE backward pass.

dL/dh_t = dL/dh_T * prod_{s=t+1..T} dh_s/dh_{s-1}, and for a tanh RNN each factor is
diag(tanh'(.)) W_hh, so the norm shrinks or grows roughly geometrically with T - t.
If the largest singular value of W_hh is below 1 the tanh RNN's gradient must vanish
(Pascanu, Mikolov & Bengio 2013, "On the difficulty of training RNNs", sec. 3.2); the
LSTM's additive cell path c_t = f*c_{t-1} + i*g lets it survive longer. For the TCN
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
           "GRADIENT_KINDS"]

GRADIENT_KINDS = rnn.RECURRENT_KINDS + ("tcn",)


@dataclass(frozen=True)
class GradientProfile:
    """Gradient norms along a sequence, and what the page reads off them."""

    kind: str
    norms: np.ndarray          # (T,) ||dL/dh_t|| (TCN: ||dL/dx_t||)
    parameter_grad_norm: float  # ||dL/dtheta|| over all weights, what clipping looks at
    eigenvalues: np.ndarray    # complex (H,) of the recurrent matrix; empty for the TCN

    def clipped(self, max_norm: float | None) -> np.ndarray:
        """Norms after clipping the whole gradient to `max_norm` (a uniform rescale)."""
        if not max_norm or self.parameter_grad_norm <= max_norm:
            return self.norms
        return self.norms * (max_norm / self.parameter_grad_norm)


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
