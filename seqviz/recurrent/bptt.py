"""Backpropagation through time written out: dL/dh_t for every step from one backward sweep.

The loss is the cross-entropy of the final answer, L = CE(W_hy h_T + b_y, y), so
dL/dh_T = W_hy^T (softmax - onehot(y)), and every earlier gradient follows from the one
after it through the transposed Jacobian of one step (Werbos 1990; the recursion of
Pascanu, Mikolov & Bengio 2013, eq. 3-5):

  vanilla RNN  h_t = act(a_t), a_t = W_xh x_t + b_h + W_hh h_{t-1}:
               dL/da_t = act'(a_t) * dL/dh_t,   dL/dh_{t-1} = W_hh^T dL/da_t
  LSTM         c_t = f c_{t-1} + i g,  h_t = o tanh(c_t), gates from [x_t, h_{t-1}]:
               dL/dc_t = dL/dh_t o (1 - tanh^2 c_t) + dL/dc_{t+1} f_{t+1}
               dL/dpre_t = (dL/dc_t g i(1-i), dL/dc_t c_{t-1} f(1-f), dL/dc_t i (1-g^2),
                            dL/dh_t tanh(c_t) o(1-o)),   dL/dh_{t-1} = W_h^T dL/dpre_t
  GRU          h_t = (1-z) n + z h_{t-1},  n = tanh(x_n + r (W_hn h_{t-1} + b_hn)):
               dL/dh_{t-1} = z dL/dh_t + W_hh^T (dL/dh_t P_t), P_t from the stored r, z, n

The forward pass runs without autograd in torch's fused layer holding the model's
weights (seqviz.recurrent.fused), which returns every h_t; the activations the formulas
read (gates, act'(a_t), and the LSTM's c_t by its one-line recurrence) are recomputed
from them for all steps at once. The backward sweep is then two to six small vector
operations per step, written into preallocated buffers; each step's views are made and
dropped at once (thousands of views kept alive would wake Python's full garbage
collection). The weight gradients are sums over time of outer products of the per-step
pre-activation gradients with the layer inputs: one matrix product each at the end.
tests/unit/test_gradients.py checks every result against autograd through the models
of seqviz.recurrent.cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

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
    cell = model.cell
    T, H = x.shape[0], model.hidden_size
    hidden, previous = _forward(model, x)
    W_h = cell.W_gates.weight[:, cell.input_size:]                     # (4H, H)
    pre = cell.project_input(x) + previous @ W_h.t()                   # (T, 4H) gate pre-activations
    i, f, g, o = pre.view(T, 4, H).unbind(1)                           # (T, H) each
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    cells_ = i * g                                                     # c_t = f c_{t-1} + i g:
    c = cells_[0]
    for t in range(1, T):
        c_t = cells_[t]
        c_t.addcmul_(f[t], c)
        c = c_t
    tanh_c = cells_.tanh()
    c_prev = torch.cat([x.new_zeros(1, H), cells_[:-1]])               # c_{t-1}
    through_c = o * (1 - tanh_c * tanh_c)                              # dh_t/dc_t
    factors = torch.stack([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g),
                           tanh_c * o * (1 - o)], dim=1).view(T, 4 * H)  # dpre_t = factors * U
    loss, error, dh_last = _readout(model, hidden[-1], target)
    grads = x.new_empty(T, H)                                          # dL/dh_t
    grads[-1] = dh_last
    dpre = x.new_empty(T, 4 * H)                                       # dL/dpre_t, blocks i f g o
    W_T = W_h.t().contiguous()                                         # (H, 4H): dh_{t-1} = W_h^T dpre_t
    U = x.new_zeros(4 * H)                                             # (dc, dc, dc, dh) of this step
    dc, dc_copies, dh = U[:H], U[H:3 * H].view(2, H), U[3 * H:]
    dh.copy_(dh_last)
    for t in range(T - 1, -1, -1):
        if t < T - 1:
            dc.mul_(f[t + 1])
        dc.addcmul_(dh, through_c[t])                                  # dc_t
        dc_copies.copy_(dc)
        d = dpre[t]
        torch.mul(factors[t], U, out=d)
        if t > 0:
            torch.mv(W_T, d, out=dh)
            grads[t - 1].copy_(dh)
    named = None
    if parameters:
        weight = torch.cat([dpre.t() @ x, dpre.t() @ previous], dim=1)  # (4H, D + H)
        named = {"cell.W_gates.weight": weight, "cell.W_gates.bias": dpre.sum(0),
                 **_readout_grads(error, hidden[-1])}
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
