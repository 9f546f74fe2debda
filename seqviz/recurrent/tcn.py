"""A temporal convolution network whose kernel size equals its stride (3).

Each layer merges non-overlapping windows of 3 steps, so after l layers one unit
sees 3^l inputs and ceil(log_3 L) layers see a whole sequence of length L
(Bai, Kolter & Koltun 2018 discuss TCNs; the stride-3 tree is the course's variant).
The sequence is padded with zeros at the end up to 3^depth. `Conv1d` is written
without a Python loop: unfold the windows, then one matrix product; it equals
nn.Conv1d with copied weights (tests/unit/test_rnn.py). Its weights are drawn from a
generator (`init_parameters`), with nn.Conv1d's default distribution.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from seqviz.core import rng
from seqviz.recurrent.cells import CLASSES, VOCAB, SequenceOutput, one_hot

__all__ = ["Conv1d", "TCN", "tcn_depth", "KERNEL"]

KERNEL = 3


def tcn_depth(length: int, kernel: int = KERNEL) -> int:
    """ceil(log_kernel(length)), computed with integers; at least 1."""
    if length < 1:
        raise ValueError(f"length must be at least 1, got {length}")
    depth = 1
    while kernel ** depth < length:
        depth += 1
    return depth


class Conv1d(nn.Module):
    """1-D convolution, no padding, as unfold + matmul (weight (C_out, C_in, k) like torch)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, *,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size))  # (C_out, C_in, k)
        self.bias = nn.Parameter(torch.empty(out_channels))                              # (C_out,)
        if self.weight.device.type != "meta":  # built on 'meta', the caller initialises later
            self.init_parameters(generator if generator is not None else rng.torch_generator(0))

    @torch.no_grad()
    def init_parameters(self, generator: torch.Generator) -> Conv1d:
        """nn.Conv1d's default: weight and bias U(-1/sqrt(C_in k), 1/sqrt(C_in k)), from `generator`."""
        bound = 1 / math.sqrt(self.weight[0].numel())
        self.weight.copy_(rng.uniform(tuple(self.weight.shape), bound, generator))
        self.bias.copy_(rng.uniform(tuple(self.bias.shape), bound, generator))
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, C_in, L) -> (B, C_out, L_out), L_out = (L - k) // stride + 1."""
        windows = x.unfold(2, self.kernel_size, self.stride)            # (B, C_in, L_out, k)
        windows = windows.permute(0, 2, 1, 3).flatten(2)                # (B, L_out, C_in*k)
        kernel = self.weight.flatten(1)                                 # (C_out, C_in*k)
        out = windows @ kernel.t() + self.bias                          # (B, L_out, C_out)
        return out.transpose(1, 2)                                      # (B, C_out, L_out)

    @torch.no_grad()
    def from_torch(self, conv: nn.Conv1d) -> Conv1d:
        self.weight.copy_(conv.weight)
        self.bias.copy_(conv.bias)
        return self


class TCN(nn.Module):
    """ceil(log_3 L) stride-3 convolutions with ReLU, then a readout from the last unit."""

    def __init__(self, hidden_size: int, length: int, input_size: int = VOCAB,
                 classes: int = CLASSES):
        super().__init__()
        self.hidden_size, self.length = hidden_size, length
        self.depth = tcn_depth(length)
        self.padded_length = KERNEL ** self.depth
        sizes = [input_size] + [hidden_size] * self.depth
        self.layers = nn.ModuleList(Conv1d(a, b, KERNEL, KERNEL) for a, b in zip(sizes, sizes[1:]))
        self.W_hy = nn.Linear(hidden_size, classes)

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B, 3^depth, D), zeros appended at the end."""
        T = x.shape[1]
        if T > self.padded_length:
            raise ValueError(f"this TCN has {self.depth} layers and sees at most "
                             f"{self.padded_length} steps; got {T}")
        return nn.functional.pad(x, (0, 0, 0, self.padded_length - T))

    def forward(self, x: torch.Tensor) -> SequenceOutput:
        """Token ids (B, T) or one-hot floats (B, T, D) -> logits (B, 1, C) for the end."""
        z = self.pad(one_hot(x)).transpose(1, 2)                        # (B, D, 3^depth)
        for layer in self.layers:
            z = torch.relu(layer(z))                                    # (B, H, L / 3)
        top = z[:, :, 0]                                                # (B, H)
        return SequenceOutput(self.W_hy(top).unsqueeze(1))              # (B, 1, C)
