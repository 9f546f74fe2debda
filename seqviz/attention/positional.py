"""The sinusoidal positional encoding (Vaswani et al. 2017, section 3.5): the one table in seqviz.

E[pos, 2i] = sin(pos / 10000^(2i/d)), E[pos, 2i+1] = cos(pos / 10000^(2i/d)).
Every position gets a distinct pattern of phases, and E[pos + k] is a fixed linear
function (a rotation per frequency) of E[pos], so relative offsets are easy to read.
"""

from __future__ import annotations

import math

import torch

__all__ = ["sinusoidal"]


def sinusoidal(positions: int, width: int) -> torch.Tensor:
    """The (positions, width) table; an odd width drops the last cosine column."""
    if positions < 0 or width < 1:
        raise ValueError(f"need positions >= 0 and width >= 1, got {positions} and {width}")
    position = torch.arange(positions, dtype=torch.float32)[:, None]                   # (n, 1)
    frequency = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width))
    table = torch.zeros(positions, width)
    table[:, 0::2] = torch.sin(position * frequency)                                  # (n, ceil(d/2))
    table[:, 1::2] = torch.cos(position * frequency)[:, : width // 2]                 # (n, floor(d/2))
    return table
