"""Backpropagation through time in one sweep: dL/dh_t for every step t, and dL/dtheta.

The loss is the cross-entropy of the final answer, L = CE(W_hy h_T + b_y, y), so
dL/dh_T = W_hy^T (softmax - onehot(y)), and every earlier gradient follows from the one
after it through the transposed Jacobian of one step (Werbos 1990; the recursion of
Pascanu, Mikolov & Bengio 2013, eq. 3-5):

  vanilla RNN  h_t = act(a_t), a_t = W_xh x_t + b_h + W_hh h_{t-1}:
               dL/da_t = act'(a_t) * dL/dh_t,   dL/dh_{t-1} = W_hh^T dL/da_t
  GRU          h_t = (1-z) n + z h_{t-1},  n = tanh(x_n + r (W_hn h_{t-1} + b_hn)):
               dL/dh_{t-1} = z dL/dh_t + W_hh^T (P_t * dL/dh_t), with P_t read off the
               stored r, z, n: (dn (W_hn h + b_hn) r(1-r), (h_{t-1} - n) z(1-z), dn r),
               dn = (1-z)(1-n^2)
  LSTM         gates pre_t = W_x x_t + W_h h_{t-1} + b, so dL/dh_{t-1} = W_h^T dL/dpre_t

For the RNN and the GRU the recursion is written out: torch's fused layer (holding the
model's weights, seqviz.recurrent.fused) gives every h_t, the factors act'(a_t) or P_t
are computed for all steps at once, and the backward sweep is two or three small vector
operations per step into preallocated buffers (each step's views are made and dropped at
once: thousands of views kept alive would wake Python's full garbage collection). The
weight gradients are sums over time of outer products of the per-step pre-activation
gradients with the layer inputs, one matrix product each at the end.

The LSTM's sweep is torch's fused LSTM backward itself: the layer gets a second input,
all zeros, that enters the gates through W_h. The forward pass is unchanged, and that
input's gradient at step t is W_h^T dL/dpre_t, which is dL/dh_{t-1}: every step's
gradient from the one fused backward pass.

tests/unit/test_gradients.py checks every result against autograd through the models of
seqviz.recurrent.cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from seqviz.recurrent import cells as rnn
from seqviz.recurrent.fused import FusedRecurrent

__all__ = ["Backprop", "backprop_through_time"]


@dataclass(frozen=True)
class Backprop:
    """What one backward sweep gives: dL/dh_t for every t and, when asked, dL/dtheta."""

    loss: float
    hidden_grads: torch.Tensor                     # (T, H) dL/dh_t
    parameter_grads: dict[str, torch.Tensor] | None  # name as in model.named_parameters()


def backprop_through_time(model: rnn.RNN | rnn.LSTM | rnn.GRU, x: torch.Tensor, y: torch.Tensor,
                          *, parameters: bool = True) -> Backprop:
    """One sequence: token ids (1, T) or (T,), target (1,) or scalar; every dL/dh_t.

    `parameters=False` skips the weight gradients (the hidden ones need none of them).
    """
    x = rnn.one_hot(x.unsqueeze(0) if x.dim() == 1 else x)              # (1, T, D)
    if x.dim() != 3 or x.shape[0] != 1:
        raise ValueError(f"one sequence expected, (1, T) ids or (1, T, D) floats; got {tuple(x.shape)}")
    x = x[0]                                                           # (T, D)
    target = int(y.reshape(-1)[0])
    with torch.no_grad():
        if isinstance(model, rnn.LSTM):
            return _lstm(model, x, target, parameters)
        if isinstance(model, rnn.GRU):
            return _gru(model, x, target, parameters)
        if isinstance(model, rnn.RNN):
            return _rnn(model, x, target, parameters)
    raise TypeError(f"no closed-form backward for {type(model).__name__}")


def _readout(model: rnn._Recurrent, h_last: torch.Tensor, target: int
             ) -> tuple[float, torch.Tensor, torch.Tensor]:
    """Loss, dL/dlogits = softmax - onehot (C,), and dL/dh_T (H,)."""
    logits = model.W_hy(h_last)                                        # (C,)
    error = torch.softmax(logits, dim=0)
    loss = float(-torch.log_softmax(logits, dim=0)[target])
    error[target] -= 1.0
    return loss, error, model.W_hy.weight.t() @ error                  # (C,), (H,)


def _readout_grads(error: torch.Tensor, h_last: torch.Tensor) -> dict[str, torch.Tensor]:
    return {"W_hy.weight": torch.outer(error, h_last), "W_hy.bias": error}


def _forward(model: rnn._Recurrent, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Every h_t (T, H) from the fused layer, and h_{t-1} (T, H) with h_{-1} = 0."""
    hidden = FusedRecurrent(model).layer(x.unsqueeze(0))[0][0]         # (T, H)
    return hidden, torch.cat([hidden.new_zeros(1, hidden.shape[1]), hidden[:-1]])


def _rnn(model: rnn.RNN, x: torch.Tensor, target: int, parameters: bool) -> Backprop:
    T, H = x.shape[0], model.hidden_size
    hidden, previous = _forward(model, x)
    slope = 1 - hidden * hidden if model.nonlinearity == "tanh" else (hidden > 0).to(hidden.dtype)
    loss, error, dh_last = _readout(model, hidden[-1], target)
    grads = x.new_empty(T, H)                                          # dL/dh_t
    grads[-1] = dh_last
    W_T = model.cell.W_hh.weight.t().contiguous()                      # dh_{t-1} = W^T (act' * dh_t)
    step = x.new_empty(H)
    dh = grads[T - 1]
    for t in range(T - 1, 0, -1):
        torch.mul(slope[t], dh, out=step)
        dh = grads[t - 1]
        torch.mv(W_T, step, out=dh)
    named = None
    if parameters:
        pre = slope * grads                                            # dL/da_t (T, H)
        named = {"cell.W_xh.weight": pre.t() @ x, "cell.W_xh.bias": pre.sum(0),
                 "cell.W_hh.weight": pre.t() @ previous, **_readout_grads(error, hidden[-1])}
    return Backprop(loss, grads, named)


def _lstm(model: rnn.LSTM, x: torch.Tensor, target: int, parameters: bool) -> Backprop:
    """torch's fused LSTM runs the whole sweep. It gets a second input, all zeros, that
    enters the gates through W_h: the forward pass is unchanged, and the gradient of that
    input at step t is W_h^T dL/dpre_t, which is dL/dh_{t-1}."""
    cell = model.cell
    T, H, D = x.shape[0], model.hidden_size, cell.input_size
    W = cell.W_gates.weight                                            # (4H, D + H): [W_x | W_h]
    layer = nn.LSTM(D + H, H, batch_first=True, device="meta").to_empty(device=x.device)
    layer.weight_ih_l0.copy_(W)                                        # x_t through W_x, zeros through W_h
    layer.weight_hh_l0.copy_(W[:, D:])
    layer.bias_ih_l0.copy_(cell.W_gates.bias)
    layer.bias_hh_l0.zero_()
    layer.requires_grad_(parameters)
    inputs = torch.cat([x, x.new_zeros(T, H)], dim=1).unsqueeze(0).requires_grad_(True)  # (1, T, D + H)
    with torch.enable_grad():
        last = layer(inputs)[0][0, -1]                                 # h_T (H,)
    loss, error, dh_last = _readout(model, last.detach(), target)
    wanted = [inputs] + ([layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0] if parameters else [])
    found = torch.autograd.grad(last, wanted, grad_outputs=dh_last)    # the one backward pass
    grads = torch.cat([found[0][0, 1:, D:], dh_last.unsqueeze(0)])      # dL/dh_t = (dL/d zeros_{t+1}, ..)
    named = None
    if parameters:
        d_ih, d_hh, d_bias = found[1:]
        named = {"cell.W_gates.weight": torch.cat([d_ih[:, :D], d_hh], dim=1), "cell.W_gates.bias": d_bias,
                 **_readout_grads(error, last.detach())}
    return Backprop(loss, grads, named)


def _gru(model: rnn.GRU, x: torch.Tensor, target: int, parameters: bool) -> Backprop:
    cell = model.cell
    T, H = x.shape[0], model.hidden_size
    hidden, previous = _forward(model, x)
    x_r, x_z, x_n = cell.W_xh(x).view(T, 3, H).unbind(1)               # (T, H) each
    h_r, h_z, h_n = cell.W_hh(previous).view(T, 3, H).unbind(1)        # W_hh h_{t-1} + b_hh
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    dn_pre = (1 - z) * (1 - n * n)                                     # dh_t/d(n pre-activation)
    factors = torch.stack([dn_pre * h_n * r * (1 - r), (previous - n) * z * (1 - z), dn_pre * r],
                          dim=1)                                       # (T, 3, H)
    loss, error, dh_last = _readout(model, hidden[-1], target)
    grads = x.new_empty(T, H)
    grads[-1] = dh_last
    dpre = x.new_empty(T, 3, H)                                        # dL/d(W_hh h + b_hh), rows r z n
    flat = dpre.view(T, 3 * H)
    W_T = cell.W_hh.weight.t().contiguous()                            # (H, 3H)
    dh = grads[T - 1]
    for t in range(T - 1, -1, -1):
        torch.mul(factors[t], dh, out=dpre[t])                         # (3, H) * (H,)
        if t > 0:
            below = grads[t - 1]
            torch.mul(z[t], dh, out=below)
            below.addmv_(W_T, flat[t])
            dh = below
    named = None
    if parameters:
        d_input = torch.cat([dpre[:, :2], (grads * dn_pre).unsqueeze(1)], dim=1).view(T, 3 * H)
        named = {"cell.W_xh.weight": d_input.t() @ x, "cell.W_xh.bias": d_input.sum(0),
                 "cell.W_hh.weight": flat.t() @ previous, "cell.W_hh.bias": flat.sum(0),
                 **_readout_grads(error, hidden[-1])}
    return Backprop(loss, grads, named)
