"""Words to regions: a tiny text-to-image model whose four quadrant codes cross-attend to the words.

The picture is encoded as four latent codes, one per quadrant. A bidirectional GRU reads
the sentence (seqviz.attention.scenes) into one vector per word. In the attention model
each quadrant has a learnt query that attends over the encoded words (queries from the
regions, keys and values from the words: cross-attention, Vaswani et al. 2017 eq. 1,
computed by seqviz.attention.attention); the context it reads is its latent code. Without
attention (the ablation), the sentence is squeezed into one vector, the GRU's last states
in both directions, and each quadrant's code is made from that vector and the quadrant's
own learnt embedding, so the decoder must untangle which object goes where. In both models
one decoder, shared by the four quadrants, draws a QUADRANT x QUADRANT patch from a code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqviz.attention import scenes
from seqviz.attention.attention import attention

__all__ = ["VARIANTS", "RegionsConfig", "Drawing", "WordsToRegions"]

VARIANTS = ("attention", "one-vector")


@dataclass(frozen=True)
class RegionsConfig:
    """One text-to-image model: `variant` "attention" (cross-attention) or "one-vector" (none)."""

    variant: str = "attention"
    width: int = 64          # word vectors, queries, latent codes
    decoder_hidden: int = 128

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        if self.width % 2:
            raise ValueError("width must be even (the GRU's two directions share it)")


class Drawing(NamedTuple):
    """What the model returns: pixel logits (B, 4, Q, Q, 3), the pictures in [0, 1] (B, SIDE,
    SIDE, 3), and the quadrant x word attention (B, 4, N) (None without attention)."""

    logits: torch.Tensor
    pictures: torch.Tensor
    attention: torch.Tensor | None


class WordsToRegions(nn.Module):
    def __init__(self, config: RegionsConfig = RegionsConfig()):
        super().__init__()
        self.config = config
        d = config.width
        self.embed = nn.Embedding(len(scenes.VOCAB), d, padding_idx=0)
        self.encoder = nn.GRU(d, d // 2, batch_first=True, bidirectional=True)
        if config.variant == "attention":
            self.queries = nn.Parameter(torch.zeros(scenes.MAX_OBJECTS, d))    # (4, d), drawn by init_parameters
            self.keys = nn.Linear(d, d)
            self.values = nn.Linear(d, d)
        else:
            self.quadrants = nn.Parameter(torch.zeros(scenes.MAX_OBJECTS, d))  # (4, d), drawn by init_parameters
            self.combine = nn.Linear(2 * d, d)
        q = scenes.QUADRANT
        self.decoder = nn.Sequential(nn.Linear(d, config.decoder_hidden), nn.ReLU(),
                                     nn.Linear(config.decoder_hidden, config.decoder_hidden), nn.ReLU(),
                                     nn.Linear(config.decoder_hidden, q * q * 3))

    def init_parameters(self, generator: torch.Generator) -> None:
        """The quadrant queries (or embeddings): N(0, 1/d), drawn from `generator` (seqviz.core.rng)."""
        own = self.queries if self.config.variant == "attention" else self.quadrants
        with torch.no_grad():
            own.copy_(torch.randn(own.shape, generator=generator) / own.shape[-1] ** 0.5)

    def encode(self, ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Word vectors (B, N, d) and the sentence vector (B, d): forward GRU state after the
        last word, backward state after the first."""
        packed = pack_padded_sequence(self.embed(ids), lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, last = self.encoder(packed)                   # last: (2, B, d/2)
        words, _ = pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
        return words, torch.cat([last[0], last[1]], dim=-1)

    def codes(self, ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The four quadrant codes (B, 4, d) and the attention (B, 4, N) that made them."""
        words, whole = self.encode(ids, lengths)
        if self.config.variant == "attention":
            mask = (torch.arange(ids.shape[1], device=ids.device) < lengths[:, None])[:, None, :]  # (B, 1, N)
            queries = self.queries.expand(ids.shape[0], -1, -1)                           # (B, 4, d)
            return attention(queries, self.keys(words), self.values(words), mask=mask)
        b = ids.shape[0]
        both = torch.cat([whole[:, None, :].expand(b, scenes.MAX_OBJECTS, -1),
                          self.quadrants.expand(b, -1, -1)], dim=-1)                      # (B, 4, 2d)
        return torch.relu(self.combine(both)), None

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> Drawing:
        codes, weights = self.codes(ids, lengths)
        q = scenes.QUADRANT
        logits = self.decoder(codes).reshape(ids.shape[0], scenes.MAX_OBJECTS, q, q, 3)    # (B, 4, Q, Q, 3)
        grid = torch.sigmoid(logits).reshape(-1, 2, 2, q, q, 3)                           # (B, row, col, y, x, 3)
        pictures = grid.permute(0, 1, 3, 2, 4, 5).reshape(-1, scenes.SIDE, scenes.SIDE, 3)
        return Drawing(logits, pictures, weights)
