"""Memory tasks: remember one token across a stretch of blanks, answer at the end.

A sequence of `length` symbols is blank (0) except for one token from {1, 2, 3} at a
random position and a request symbol (4) at the last step; the target is the token.
In *memory* train and validation positions come from the same range. In *memorygen*
the token sits in the first half of the sequence for training and in the second half
for validation, so validation asks for recall after gaps never seen in training.
"""

from __future__ import annotations

import torch

__all__ = ["memory_task", "token_positions", "BLANK", "REQUEST", "TOKENS", "TASKS"]

BLANK, REQUEST = 0, 4
TOKENS = (1, 2, 3)
TASKS = ("memory", "memorygen")
_SPLIT_OFFSET = {"train": 0, "val": 1, "test": 2}


def token_positions(length: int, generalize: bool, split: str) -> tuple[int, int]:
    """The half-open range [low, high) of positions the token may take."""
    if length < 3:
        raise ValueError(f"length must be at least 3 (token, blank, request), got {length}")
    if split not in _SPLIT_OFFSET:
        raise ValueError(f"split must be one of {tuple(_SPLIT_OFFSET)}, got {split!r}")
    last = length - 1                      # positions 0 .. length-2 precede the request
    if not generalize:
        return 0, last
    half = last // 2
    return (0, half) if split == "train" else (half, last)


def memory_task(n: int, length: int, *, seed: int, generalize: bool = False,
                split: str = "train", position: int | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` sequences (n, length) of token ids and their targets (n,) in {1, 2, 3}.

    Each split draws from its own stream of the seed, so train and val never repeat.
    `position` pins the token to one position (used by the probe on the hidden-state page).
    """
    low, high = token_positions(length, generalize, split)
    generator = torch.Generator().manual_seed(int(seed) * 3 + _SPLIT_OFFSET[split])
    tokens = torch.randint(1, 4, (n,), generator=generator)
    if position is None:
        positions = torch.randint(low, high, (n,), generator=generator)
    else:
        if not 0 <= position < length - 1:
            raise ValueError(f"position must be in 0..{length - 2}, got {position}")
        positions = torch.full((n,), position)
    x = torch.zeros(n, length, dtype=torch.long)
    x[torch.arange(n), positions] = tokens
    x[:, -1] = REQUEST
    return x, tokens
