"""Softmax flattening for one-hot inputs, and why attention scales by sqrt(d_k).

For a one-hot x in R^D scaled by c, softmax puts e^c / (e^c + D - 1) on the hot
entry and 1 / (e^c + D - 1) on each of the others, so the output drifts towards
uniform as D grows. Keeping the hot weight at least p needs
c >= ln(p (D - 1) / (1 - p)): the logit gap must grow like log D.
The second half measures q.k for random unit-variance vectors: its variance is
d_k, and dividing by sqrt(d_k) (Vaswani et al. 2017, eq. 1) brings it back to 1;
its scores and weights come from seqviz's one attention function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from seqviz.attention.attention import attention
from seqviz.core import rng
from seqviz.core.device import float_dtype

__all__ = [
    "onehot_softmax", "onehot_softmax_torch", "scale_for_target", "onehot_entropy",
    "FlatteningTable", "flattening_table", "DotProductStats", "dot_product_stats",
]


def _check_dimension(D: int) -> int:
    if isinstance(D, bool) or int(D) != D or D < 2:
        raise ValueError(f"D must be an integer of at least 2, got {D!r}")
    return int(D)


def onehot_softmax(D: int, scale: float = 1.0) -> tuple[float, float]:
    """(p_hot, p_other) of softmax(scale * onehot) in R^D, in closed form, float64.

    Computed as 1 / (1 + (D - 1) e^-c) so that large scales do not overflow.
    """
    D = _check_dimension(D)
    if not math.isfinite(scale):
        raise ValueError(f"scale must be finite, got {scale!r}")
    others = (D - 1) * math.exp(-scale) if scale > -700 else math.inf
    p_hot = 1.0 / (1.0 + others)
    p_other = p_hot * math.exp(-scale) if scale > -700 else 1.0 / (D - 1)
    return p_hot, p_other


def onehot_softmax_torch(D: int, scale: float = 1.0, device: str | torch.device = "cpu"
                         ) -> tuple[float, float]:
    """(p_hot, p_other) from ``torch.softmax`` on an actual one-hot vector on `device`."""
    D = _check_dimension(D)
    device = torch.device(device)
    x = torch.zeros(D, dtype=float_dtype(device), device=device)  # (D,)
    x[0] = scale
    p = torch.softmax(x, dim=0)
    return float(p[0]), float(p[1])


def onehot_entropy(D: int, scale: float = 1.0) -> float:
    """Entropy in nats of softmax(scale * onehot) in R^D; at most log D."""
    p_hot, p_other = onehot_softmax(D, scale)
    terms = -p_hot * math.log(p_hot) if p_hot > 0 else 0.0
    if p_other > 0:
        terms += -(D - 1) * p_other * math.log(p_other)
    return terms


def scale_for_target(D: int, p: float) -> float:
    """Smallest logit scale c with e^c / (e^c + D - 1) >= p: ln(p (D - 1) / (1 - p))."""
    D = _check_dimension(D)
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must lie strictly between 0 and 1, got {p!r}")
    return math.log(p * (D - 1) / (1.0 - p))


@dataclass(frozen=True)
class FlatteningTable:
    """p_hot and p_other of a scaled one-hot for each D: closed form, torch, and their gap."""

    D: np.ndarray               # (n,) vector lengths
    p_hot_closed: np.ndarray    # (n,)
    p_other_closed: np.ndarray  # (n,)
    p_hot_torch: np.ndarray     # (n,)
    p_other_torch: np.ndarray   # (n,)
    gap: np.ndarray             # (n,) largest |closed - torch| of the two


def flattening_table(dims: list[int] | np.ndarray, scale: float, device: str | torch.device
                     ) -> FlatteningTable:
    """Closed form and torch values of p_hot and p_other for each D, with their gaps."""
    dims = np.asarray(dims, dtype=np.int64)
    closed = np.array([onehot_softmax(int(D), scale) for D in dims])  # (n, 2)
    measured = np.array([onehot_softmax_torch(int(D), scale, device) for D in dims])  # (n, 2)
    return FlatteningTable(D=dims, p_hot_closed=closed[:, 0], p_other_closed=closed[:, 1],
                           p_hot_torch=measured[:, 0], p_other_torch=measured[:, 1],
                           gap=np.abs(closed - measured).max(axis=1))


@dataclass(frozen=True)
class DotProductStats:
    """Samples of q.k and the softmax rows they produce, with and without scaling."""

    d_k: int
    raw_scores: np.ndarray        # (samples,) q.k
    scaled_scores: np.ndarray     # (samples,) q.k / sqrt(d_k)
    raw_max_weight: float         # mean over queries of the largest softmax weight
    scaled_max_weight: float
    raw_entropy: float            # mean entropy (nats) of a softmax row
    scaled_entropy: float
    max_entropy: float            # log(num_keys)


def dot_product_stats(d_k: int, num_keys: int = 16, num_queries: int = 512, *, seed: int = 0,
                      device: str | torch.device = "cpu") -> DotProductStats:
    """Draw q, k with independent N(0, 1) entries and measure q.k and its softmax rows.

    Scores and weights are `attention`'s own, with scale 1 (raw) and 1/sqrt(d_k) (scaled).
    """
    if d_k < 1 or num_keys < 2 or num_queries < 1:
        raise ValueError("need d_k >= 1, num_keys >= 2 and num_queries >= 1")
    device = torch.device(device)
    generator = rng.torch_generator(seed)
    q = torch.randn(num_queries, d_k, generator=generator).to(device)  # (Nq, d_k)
    k = torch.randn(num_keys, d_k, generator=generator).to(device)     # (Nk, d_k)
    v = torch.zeros(num_keys, 1, device=device)                       # (Nk, 1): only the weights are read

    def scores_and_stats(scale: float | None) -> tuple[torch.Tensor, float, float]:
        _, scores = attention(q, k, v, scale=scale, apply_softmax=False)   # (Nq, Nk)
        _, weights = attention(q, k, v, scale=scale)                      # (Nq, Nk)
        entropy = -(weights * torch.log(weights.clamp_min(1e-30))).sum(-1)
        return scores, float(weights.max(-1).values.mean()), float(entropy.mean())

    raw, raw_max, raw_entropy = scores_and_stats(1.0)
    scaled, scaled_max, scaled_entropy = scores_and_stats(None)
    return DotProductStats(
        d_k=d_k,
        raw_scores=raw.flatten().cpu().numpy(), scaled_scores=scaled.flatten().cpu().numpy(),
        raw_max_weight=raw_max, scaled_max_weight=scaled_max,
        raw_entropy=raw_entropy, scaled_entropy=scaled_entropy,
        max_entropy=math.log(num_keys),
    )
