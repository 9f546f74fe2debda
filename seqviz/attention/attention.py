"""Scaled dot-product attention: the one implementation in seqviz, and the pieces the pages take apart.

Implements Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V (Vaswani et al. 2017,
"Attention Is All You Need", eq. 1), returning its internals (the annotated-
transformer's `attention()` convention), plus the pieces the pages take apart:
the softmax over the wrong axis, a split of d_k into heads (section 3.2.2), the
identity limit K = I, Q = c I, and validation of matrices typed by a user.
numpy arrays or torch tensors go in; the same type comes out.
Every other attention in seqviz (identity attention, the permutation block, the
cost benchmark, the scaling statistics of the softmax page, the ViT) calls `attention`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from seqviz.core import rng

__all__ = [
    "WORKED_Q", "WORKED_K", "WORKED_V", "attention", "scaled_dot_product", "scores", "split_heads",
    "multi_head_weights", "random_qkv", "check_shapes", "matrix_from_cells", "MAX_ABS_VALUE",
    "identity_attention", "IdentitySweep", "identity_sweep", "self_similarity_attention",
    "AttentionSteps", "explain", "largest_divisor_at_most", "MAX_MATRIX_SIDE",
]

# The worked example of the course (d_k = 4, d_v = 3): without the softmax the output is
# [[11, 15, 18], [5, 6.5, 7.5], [2, 2.5, 3], [0.5, 1, 1.5], [3.5, 5, 6]].
WORKED_Q = np.array([[1, 1, 1, 1], [0, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0]], float)
WORKED_K = np.array([[1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 0, 1]], float)
WORKED_V = np.array([[1, 2, 3], [4, 5, 6], [6, 8, 9]], float)
MAX_ABS_VALUE = 1e6  # typed entries beyond this could overflow Q K^T V in float64
MAX_MATRIX_SIDE = 16  # rows and columns of a typed matrix: every cell is drawn, annotated


def _to_torch(x: Any) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    return torch.as_tensor(np.asarray(x, dtype=np.float64))


def _like(result: torch.Tensor, template: Any) -> Any:
    if isinstance(template, torch.Tensor):
        return result
    return result.detach().cpu().numpy()


def _scaled_scores(q: torch.Tensor, k: torch.Tensor, scale: float | None) -> torch.Tensor:
    """q k^T * scale, scale=None meaning 1/sqrt(d_k): (..., N_Q, N_KV). The scale is applied
    to q (N_Q x d_k numbers) rather than to the N_Q x N_KV product: one pass fewer over
    the largest tensor."""
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    return (q * scale) @ k.transpose(-2, -1)


def scores(Q: Any, K: Any, scale: float | None = None) -> Any:
    """Q K^T times `scale` (default 1/sqrt(d_k)): shape (..., N_Q, N_KV), as `attention` forms them."""
    return _like(_scaled_scores(_to_torch(Q), _to_torch(K), scale), Q)


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, need_weights: bool = True,
              apply_softmax: bool = True, scale: float | None = None, normalise_over: str = "keys",
              mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The one attention function in seqviz: (output, weights) of softmax(q k^T * scale) v.

    q: (..., N_Q, d_k), k: (..., N_KV, d_k), v: (..., N_KV, d_v) -> output (..., N_Q, d_v),
    weights (..., N_Q, N_KV). `scale=None` means 1/sqrt(d_k) (Vaswani et al. 2017, eq. 1).
    With `need_weights=False` (and the ordinary softmax over keys) the fused kernel
    `F.scaled_dot_product_attention` computes the output without writing the N_Q x N_KV
    weights out, and `weights` is None. The explicit path returns the weights:
    `apply_softmax=False` leaves them as the scaled scores; `normalise_over="queries"`
    applies the softmax down each column, the mistake the playground shows.
    `mask` (bool, broadcastable to the weights' shape) says which keys each query may read:
    False scores are set to -inf before the softmax (padding words of a shorter sentence).
    """
    if normalise_over not in ("keys", "queries"):
        raise ValueError(f"normalise_over must be 'keys' or 'queries', got {normalise_over!r}")
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    if not need_weights and apply_softmax and normalise_over == "keys":
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale), None  # (..., N_Q, d_v)
    weights = _scaled_scores(q, k, scale)                                    # (..., N_Q, N_KV)
    if mask is not None:
        weights = weights.masked_fill(~mask, float("-inf"))
    if apply_softmax:
        weights = torch.softmax(weights, dim=-1 if normalise_over == "keys" else -2)
    return weights @ v, weights                                             # (..., N_Q, d_v)


def scaled_dot_product(Q: Any, K: Any, V: Any, *, apply_softmax: bool = True,
                       scale: float | None = None, normalise_over: str = "keys"
                       ) -> tuple[Any, Any]:
    """`attention` on numpy arrays or tensors, shapes checked: (output, weights), same type as Q.

    Raises ValueError with a sentence a student can act on when the shapes do not fit.
    """
    q, k, v = _to_torch(Q), _to_torch(K), _to_torch(V)
    check_shapes(tuple(q.shape), tuple(k.shape), tuple(v.shape))
    output, weights = attention(q, k, v, apply_softmax=apply_softmax, scale=scale,
                                normalise_over=normalise_over)
    return _like(output, Q), _like(weights, Q)


def check_shapes(q_shape: tuple[int, ...], k_shape: tuple[int, ...], v_shape: tuple[int, ...]
                 ) -> tuple[int, int]:
    """Raise ValueError unless Q, K share d_k and K, V share N_KV; return (N_Q, d_v)."""
    if len(q_shape) < 2 or len(k_shape) < 2 or len(v_shape) < 2:
        raise ValueError("Q, K and V must be matrices (at least 2 dimensions)")
    if q_shape[-1] != k_shape[-1]:
        raise ValueError(f"Q has dₖ = {q_shape[-1]} columns but K has {k_shape[-1]}: "
                         "every query is compared with every key by a dot product, so they "
                         "must have the same length")
    if k_shape[-2] != v_shape[-2]:
        raise ValueError(f"K has {k_shape[-2]} rows (keys) but V has {v_shape[-2]}: "
                         "every key needs exactly one value")
    return q_shape[-2], v_shape[-1]


def split_heads(X: Any, heads: int) -> Any:
    """(N, d) -> (heads, N, d / heads): the columns cut into `heads` equal slices."""
    x = _to_torch(X)
    n, d = x.shape[-2], x.shape[-1]
    if heads < 1 or d % heads:
        raise ValueError(f"{heads} heads do not divide the dimension {d}")
    split = x.reshape(*x.shape[:-2], n, heads, d // heads)             # (..., N, h, d/h)
    return _like(split.transpose(-3, -2), X)                           # (..., h, N, d/h)


def multi_head_weights(Q: Any, K: Any, V: Any, heads: int, *, apply_softmax: bool = True,
                       normalise_over: str = "keys") -> tuple[Any, Any]:
    """Split d_k into `heads` slices and attend with each: (outputs, weights).

    Each head h compares Q[:, slice_h] with K[:, slice_h] and scales by
    1/sqrt(d_k / heads). Here every head reads the full V, so the outputs are
    (heads, N_Q, d_v) and the weights (heads, N_Q, N_KV); a trained layer would give
    each head its own projection of V and concatenate.
    """
    q_heads, k_heads = split_heads(Q, heads), split_heads(K, heads)      # (h, N, d_k/h)
    v = _to_torch(V).expand(heads, *_to_torch(V).shape)                 # (h, N_KV, d_v)
    return scaled_dot_product(q_heads, k_heads, _like(v, Q), apply_softmax=apply_softmax,
                              normalise_over=normalise_over)


def random_qkv(n_q: int, n_kv: int, d_k: int, d_v: int, seed: int = 0
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded random Q, K, V with N(0, 1) entries rounded to 1 decimal (readable)."""
    generator = rng.numpy_generator(seed)
    draw = lambda *shape: np.round(generator.standard_normal(shape), 1)  # noqa: E731
    return draw(n_q, d_k), draw(n_kv, d_k), draw(n_kv, d_v)


def matrix_from_cells(cells: Sequence[Sequence[Any]], name: str) -> np.ndarray:
    """A float64 matrix from a table of cells typed by a user, or a ValueError saying
    what is wrong: more than MAX_MATRIX_SIDE rows or columns, or which cell is empty,
    not a number, not finite, or beyond ±MAX_ABS_VALUE."""
    rows = [list(row) for row in cells]
    if not rows or not rows[0]:
        raise ValueError(f"{name} has no rows: it needs at least one")
    for what, count in (("rows", len(rows)), ("columns", max(len(row) for row in rows))):
        if count > MAX_MATRIX_SIDE:
            raise ValueError(f"{name} has {count:,} {what}; the playground takes at most "
                             f"{MAX_MATRIX_SIDE} (every cell of every step is drawn)")
    result = np.empty((len(rows), len(rows[0])), dtype=np.float64)
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            where = f"{name} row {i + 1}, column {j + 1}"
            cleared = cell is None or (isinstance(cell, float) and math.isnan(cell))
            text = "" if cleared or str(cell) == "<NA>" else str(cell).strip()
            if text == "":  # a cleared cell comes back as None, NaN or pandas' NA
                raise ValueError(f"{where} is empty")
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"{where}: '{text[:20]}' is not a number") from None
            if not math.isfinite(value):
                raise ValueError(f"{where}: {text[:20]} is not a finite number")
            if abs(value) > MAX_ABS_VALUE:
                raise ValueError(f"{where}: {text[:20]} is too large (keep entries within "
                                 f"±{MAX_ABS_VALUE:.0e} so that Q Kᵀ V cannot overflow)")
            result[i, j] = value
    return result


def identity_attention(c: float, V: Any) -> tuple[Any, Any]:
    """K = I, Q = c I (N x N, N = rows of V): (output, weights), with the 1/sqrt(N) scale.

    The weights are softmax(c I / sqrt(N)): c/sqrt(N) on the diagonal, 0 elsewhere, so
    each row is a scaled one-hot and its hot entry is e^a / (e^a + N - 1), a = c/sqrt(N).
    """
    v = _to_torch(V)
    eye = torch.eye(v.shape[-2], dtype=v.dtype, device=v.device)      # (N, N)
    return scaled_dot_product(_like(c * eye, V), _like(eye, V), V)


@dataclass(frozen=True)
class IdentitySweep:
    """For each scale c of Q = c I: how far the weights are from I and the output from V."""

    c: np.ndarray                # (C,)
    weight_error: np.ndarray     # (C,) ||A - I||_F
    output_error: np.ndarray     # (C,) ||output - V||_F
    diagonal_weight: np.ndarray  # (C,) A[0, 0]


def identity_sweep(cs: Sequence[float], V: Any, device: str | torch.device = "cpu") -> IdentitySweep:
    """For each c: ||A - I||_F, ||output - V||_F and the diagonal weight, on `device`
    (every c at once, as a batch of N x N problems)."""
    device = torch.device(device)
    v = _to_torch(V).to(device, torch.float32 if device.type == "mps" else torch.float64)
    eye = torch.eye(v.shape[-2], dtype=v.dtype, device=device)                  # (N, N)
    c = torch.as_tensor(np.asarray(cs, dtype=float), dtype=v.dtype, device=device)
    output, weights = scaled_dot_product(c[:, None, None] * eye, eye.expand(len(c), -1, -1),
                                         v.expand(len(c), -1, -1))              # (C, N, d), (C, N, N)
    return IdentitySweep(c=np.asarray(cs, dtype=float),
                         weight_error=torch.linalg.norm(weights - eye, dim=(-2, -1)).cpu().numpy(),
                         output_error=torch.linalg.norm(output - v, dim=(-2, -1)).cpu().numpy(),
                         diagonal_weight=weights[:, 0, 0].cpu().numpy())


def self_similarity_attention(X: Any, scale: float = 1.0) -> tuple[Any, Any]:
    """Q = K = scale * X_hat, V = X, with X_hat the rows of X scaled to unit length.

    By Cauchy-Schwarz each token's best match is then itself, yet with a modest scale
    the softmax still spreads weight over the other tokens."""
    x = _to_torch(X)
    unit = x / torch.linalg.norm(x, dim=-1, keepdim=True).clamp_min(1e-12)    # (N, d)
    output, weights = scaled_dot_product(scale * unit, scale * unit, x)
    return _like(output, X), _like(weights, X)


def largest_divisor_at_most(d: int, heads: int) -> int:
    """The largest number of heads <= `heads` that divides d (1 always does)."""
    return max(h for h in range(1, max(1, min(d, heads)) + 1) if d % h == 0)


@dataclass(frozen=True)
class AttentionSteps:
    """Every intermediate of one attention, as the playground draws them."""

    products: np.ndarray       # (N_Q, N_KV) Q K^T
    scaled: np.ndarray         # (N_Q, N_KV) Q K^T / sqrt(d_k)
    weights: np.ndarray        # (N_Q, N_KV) after the softmax (or the scaled scores without it)
    output: np.ndarray         # (N_Q, d_v)
    head_weights: np.ndarray   # (heads, N_Q, N_KV)
    heads: int                 # the number of heads used (a divisor of d_k)


def explain(Q: np.ndarray, K: np.ndarray, V: np.ndarray, *, apply_softmax: bool = True,
            normalise_over: str = "keys", heads: int = 1, device: str | torch.device = "cpu"
            ) -> AttentionSteps:
    """Every intermediate the playground draws, computed with torch on `device`:
    products Q K^T, scaled scores, weights, output, and per-head weights (heads that
    do not divide d_k are reduced to the largest that does)."""
    device = torch.device(device)
    dtype = torch.float32 if device.type == "mps" else torch.float64
    q, k, v = (torch.as_tensor(m, dtype=dtype, device=device) for m in (Q, K, V))
    heads = largest_divisor_at_most(q.shape[-1], heads)
    output, weights = scaled_dot_product(q, k, v, apply_softmax=apply_softmax,
                                         normalise_over=normalise_over)
    _, head_weights = multi_head_weights(q, k, v, heads, apply_softmax=apply_softmax,
                                         normalise_over=normalise_over)
    as_numpy = lambda t: t.detach().cpu().numpy()  # noqa: E731
    return AttentionSteps(products=as_numpy(_scaled_scores(q, k, 1.0)),
                          scaled=as_numpy(_scaled_scores(q, k, None)), weights=as_numpy(weights),
                          output=as_numpy(output), head_weights=as_numpy(head_weights), heads=heads)
