"""torch's fused recurrent layers holding a from-scratch model's weights: the fast path for training.

The cells of seqviz.recurrent.cells loop over time in Python, a few small operations
per step, and autograd records every one of them. torch's nn.RNN / nn.LSTM / nn.GRU run
the same recursion in one fused kernel (forward and backward). `FusedRecurrent` is such
a layer with the scratch model's weights copied in: the same function, so training it
trains the scratch model (the weights are copied back with `copy_to`); the scratch
model stays the one the pages inspect (hidden states, cell states, gates).

Weight correspondence (torch's gate order is the scratch cells' order):

  RNN   weight_ih = W_xh, bias_ih = b_h, weight_hh = W_hh, bias_hh = 0 (kept at 0, not trained)
  LSTM  [weight_ih | weight_hh] = W_gates (columns x then h), bias_ih = b, bias_hh = 0 (not trained)
  GRU   weight_ih, bias_ih = W_xh; weight_hh, bias_hh = W_hh (b_hn stays inside r * (.))

The TCN's twin runs F.conv1d on the same weight layout as the unfold-and-matmul Conv1d.
tests/unit/test_rnn.py checks that each twin computes what its scratch model computes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seqviz.recurrent import cells as rnn
from seqviz.recurrent.tcn import TCN

__all__ = ["FusedRecurrent", "FusedTCN", "fused_twin"]

_LAYERS = {rnn.RNN: nn.RNN, rnn.LSTM: nn.LSTM, rnn.GRU: nn.GRU}


def _empty(module_type: type[nn.Module], *args, device: torch.device, **kwargs) -> nn.Module:
    """A module with uninitialised weights (built on 'meta': no draw from any generator)."""
    return module_type(*args, device="meta", **kwargs).to_empty(device=device)


class FusedRecurrent(nn.Module):
    """nn.RNN / nn.LSTM / nn.GRU plus the readout W_hy, computing what `model` computes."""

    def __init__(self, model: rnn.RNN | rnn.LSTM | rnn.GRU):
        super().__init__()
        device = model.W_hy.weight.device
        kind = type(model)
        if kind not in _LAYERS:
            raise TypeError(f"no fused layer for {kind.__name__}")
        options = {"nonlinearity": model.nonlinearity} if kind is rnn.RNN else {}
        self.layer = _empty(_LAYERS[kind], model.input_size, model.hidden_size, batch_first=True,
                            device=device, **options)
        self.W_hy = _empty(nn.Linear, model.hidden_size, model.W_hy.out_features, device=device)
        if kind is not rnn.GRU:  # the scratch RNN and LSTM have one bias: bias_hh stays 0
            self.layer.bias_hh_l0.requires_grad_(False)
        self.load_from(model)

    @torch.no_grad()
    def load_from(self, model: rnn.RNN | rnn.LSTM | rnn.GRU) -> FusedRecurrent:
        """Copy the scratch model's weights in."""
        layer, cell = self.layer, model.cell
        if isinstance(model, rnn.LSTM):
            layer.weight_ih_l0.copy_(cell.W_gates.weight[:, :cell.input_size])
            layer.weight_hh_l0.copy_(cell.W_gates.weight[:, cell.input_size:])
            layer.bias_ih_l0.copy_(cell.W_gates.bias)
            layer.bias_hh_l0.zero_()
        else:
            layer.weight_ih_l0.copy_(cell.W_xh.weight)
            layer.bias_ih_l0.copy_(cell.W_xh.bias)
            layer.weight_hh_l0.copy_(cell.W_hh.weight)
            if isinstance(model, rnn.GRU):
                layer.bias_hh_l0.copy_(cell.W_hh.bias)
            else:
                layer.bias_hh_l0.zero_()
        self.W_hy.load_state_dict(model.W_hy.state_dict())
        return self

    @torch.no_grad()
    def copy_to(self, model: rnn.RNN | rnn.LSTM | rnn.GRU) -> nn.Module:
        """Write these weights back into the scratch model; returns it."""
        layer, cell = self.layer, model.cell
        if isinstance(model, rnn.LSTM):
            cell.W_gates.weight.copy_(torch.cat([layer.weight_ih_l0, layer.weight_hh_l0], dim=1))
            cell.W_gates.bias.copy_(layer.bias_ih_l0 + layer.bias_hh_l0)
        else:
            cell.W_xh.weight.copy_(layer.weight_ih_l0)
            cell.W_hh.weight.copy_(layer.weight_hh_l0)
            if isinstance(model, rnn.GRU):
                cell.W_xh.bias.copy_(layer.bias_ih_l0)
                cell.W_hh.bias.copy_(layer.bias_hh_l0)
            else:
                cell.W_xh.bias.copy_(layer.bias_ih_l0 + layer.bias_hh_l0)
        model.W_hy.load_state_dict(self.W_hy.state_dict())
        return model

    def forward(self, x: torch.Tensor) -> rnn.SequenceOutput:
        """Token ids (B, T) or one-hot floats (B, T, D) -> logits (B, T, C) and h_t (B, T, H)."""
        hidden, _ = self.layer(rnn.one_hot(x))                         # (B, T, H)
        return rnn.SequenceOutput(self.W_hy(hidden), hidden)

    def final_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The logits of the last step only (B, C): the readout skips the earlier steps."""
        hidden, _ = self.layer(rnn.one_hot(x))                         # (B, T, H)
        return self.W_hy(hidden[:, -1])


class FusedTCN(nn.Module):
    """The TCN with F.conv1d in every layer; its own copy of the weights, same layout."""

    def __init__(self, model: TCN):
        super().__init__()
        self.depth, self.padded_length = model.depth, model.padded_length
        device = model.W_hy.weight.device
        self.layers = nn.ModuleList(
            _empty(nn.Conv1d, layer.weight.shape[1], layer.weight.shape[0], layer.kernel_size, layer.stride,
                   device=device) for layer in model.layers)
        self.W_hy = _empty(nn.Linear, model.hidden_size, model.W_hy.out_features, device=device)
        self.load_from(model)

    @torch.no_grad()
    def load_from(self, model: TCN) -> FusedTCN:
        for mine, theirs in zip(self.layers, model.layers):
            mine.weight.copy_(theirs.weight)
            mine.bias.copy_(theirs.bias)
        self.W_hy.load_state_dict(model.W_hy.state_dict())
        return self

    @torch.no_grad()
    def copy_to(self, model: TCN) -> TCN:
        for mine, theirs in zip(self.layers, model.layers):
            theirs.weight.copy_(mine.weight)
            theirs.bias.copy_(mine.bias)
        model.W_hy.load_state_dict(self.W_hy.state_dict())
        return model

    def forward(self, x: torch.Tensor) -> rnn.SequenceOutput:
        """Token ids (B, T) or one-hot floats (B, T, D) -> logits (B, 1, C) for the end."""
        x = rnn.one_hot(x)                                              # (B, T, D)
        if x.shape[1] > self.padded_length:
            raise ValueError(f"this TCN sees at most {self.padded_length} steps; got {x.shape[1]}")
        z = F.pad(x, (0, 0, 0, self.padded_length - x.shape[1])).transpose(1, 2)  # (B, D, 3^depth)
        for layer in self.layers:
            z = torch.relu(layer(z))                                    # (B, H, L / 3)
        return rnn.SequenceOutput(self.W_hy(z[:, :, 0]).unsqueeze(1))   # (B, 1, C)

    def final_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The logits of the answer (B, C)."""
        return self.forward(x).outputs[:, -1]


def fused_twin(model: nn.Module) -> FusedRecurrent | FusedTCN:
    """The fused twin of a scratch RNN / LSTM / GRU / TCN, holding a copy of its weights."""
    if isinstance(model, TCN):
        return FusedTCN(model)
    return FusedRecurrent(model)
