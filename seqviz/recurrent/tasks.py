"""Memory tasks: remember tokens across a stretch of blanks, answer when asked.

A sequence of `length` symbols is blank (0) except for one token from {1, 2, 3} at a
random position and a request symbol (4) at the last step; the target is the token.
In *memory* train and validation positions come from the same range. In *memorygen*
the token sits in the first half of the sequence for training and in the second half
for validation, so validation asks for recall after gaps never seen in training.

*Recall-k* measures how much a hidden state holds rather than how far back it
reaches: k tokens from {1, 2, 3} (k log2 3 bits) fill the first k steps, blanks
follow up to the request at step `delay`, and from the request on the model must
output the k tokens in order, one per step, while the input repeats the request.
Every token waits exactly `delay` steps for its answer whatever k is, so only the
amount of information changes with k, not the distance the gradient must travel.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from seqviz.core import rng

__all__ = ["memory_task", "token_positions", "recall_task", "recall_length", "RecallBatch", "BLANK",
           "REQUEST", "TOKENS", "TASKS", "RECALL_DELAY"]

BLANK, REQUEST = 0, 4
TOKENS = (1, 2, 3)
TASKS = ("memory", "memorygen")
_SPLIT_OFFSET = {"train": 0, "val": 1, "test": 2}
RECALL_DELAY = 20  # steps from each token to its answer in recall-k


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
    generator = rng.torch_generator(int(seed) * 3 + _SPLIT_OFFSET[split])
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


@dataclass(frozen=True)
class RecallBatch:
    """A batch of recall-k sequences and where their answers are read."""

    x: torch.Tensor        # (n, delay + k) symbol ids
    targets: torch.Tensor  # (n, delay + k) class per step: 0 before the request, then the tokens
    tokens: torch.Tensor   # (n, k) the k tokens in order, in {1, 2, 3}
    k: int
    delay: int

    @property
    def answer_steps(self) -> slice:
        """The k steps at which the tokens must come out: delay .. delay + k - 1."""
        return slice(self.delay, self.delay + self.k)


def recall_length(k: int, delay: int = RECALL_DELAY) -> int:
    """Sequence length of recall-k: the request at step `delay`, then k answers."""
    return delay + k


def recall_task(n: int, k: int, *, seed: int, delay: int = RECALL_DELAY, split: str = "train"
                ) -> RecallBatch:
    """`n` recall-k sequences drawn from the seed (each split from its own stream).

    Steps 0..k-1 hold the tokens, k..delay-1 are blank, steps delay..delay+k-1 hold the
    request symbol and ask for token 1, 2, ..., k in turn (token i waits `delay` steps).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if delay < k:
        raise ValueError(f"the request (step {delay}) must come after the {k} tokens")
    if split not in _SPLIT_OFFSET:
        raise ValueError(f"split must be one of {tuple(_SPLIT_OFFSET)}, got {split!r}")
    generator = rng.torch_generator(int(seed) * 3 + _SPLIT_OFFSET[split])
    tokens = torch.randint(1, 4, (n, k), generator=generator)            # (n, k)
    length = recall_length(k, delay)
    x = torch.zeros(n, length, dtype=torch.long)                         # (n, delay + k)
    x[:, :k] = tokens
    x[:, delay:] = REQUEST
    targets = torch.zeros(n, length, dtype=torch.long)                   # (n, delay + k)
    targets[:, delay:] = tokens
    return RecallBatch(x, targets, tokens, k, delay)
