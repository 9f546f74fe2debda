"""Permutation equivariance of self-attention, and how positional encodings break it.

A transformer encoder block (Vaswani et al. 2017, section 3: self-attention then a
position-wise feed-forward layer, each with a residual connection) satisfies
f(P X) = P f(X) for every permutation P. Adding positional encodings E (the
sinusoidal ones of section 3.5, or learned ones as in ViT, Dosovitskiy et al. 2021)
before the block breaks it: f(P X + E) != P f(X + E) in general.
The tokens are patches of a small picture drawn here with numpy, or random vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from seqviz.attention.attention import attention
from seqviz.attention.positional import sinusoidal
from seqviz.core import rng

__all__ = ["BlockConfig", "BlockOutput", "EquivariantBlock", "toy_image", "image_to_patches", "patches_to_image",
           "make_permutation", "EquivarianceGap", "equivariance_gap", "features_to_colours",
           "PermutationExperiment", "run_experiment", "POS_ENCODINGS", "PERMUTATIONS"]

POS_ENCODINGS = ("none", "sinusoidal", "learned")
PERMUTATIONS = ("random", "reverse", "swap first and last", "shift by one")


@dataclass(frozen=True)
class BlockConfig:
    """Sizes of the block: tokens of `d_in` features, model width `d_model`."""

    d_in: int = 48
    d_model: int = 32
    d_hidden: int = 64
    max_tokens: int = 64
    pos_encoding: str = "none"
    seed: int = 0


@dataclass(frozen=True)
class BlockOutput:
    """A block's internals for tokens X: (..., N, d_in)."""

    embedded: torch.Tensor  # (..., N, d_model) embedded tokens plus positions
    weights: torch.Tensor   # (..., N, N) attention weights, each row sums to 1
    output: torch.Tensor    # (..., N, d_model)


class EquivariantBlock(nn.Module):
    """embed -> (+ positions) -> single-head self-attention + residual -> FFN + residual.

    Every parameter is drawn from a generator seeded with `config.seed`, so the same
    config is the same function. `forward` returns its internals as a BlockOutput:
    embedded tokens, attention weights, output.
    """

    def __init__(self, config: BlockConfig) -> None:
        super().__init__()
        if config.pos_encoding not in POS_ENCODINGS:
            raise ValueError(f"pos_encoding must be one of {POS_ENCODINGS}, got {config.pos_encoding!r}")
        self.config = config
        with torch.device("meta"):  # shapes only: torch's own initialisation would draw from its global generator
            self.embed = nn.Linear(config.d_in, config.d_model)
            self.W_q = nn.Linear(config.d_model, config.d_model, bias=False)
            self.W_k = nn.Linear(config.d_model, config.d_model, bias=False)
            self.W_v = nn.Linear(config.d_model, config.d_model, bias=False)
            self.feed_forward = nn.Sequential(nn.Linear(config.d_model, config.d_hidden), nn.GELU(),
                                              nn.Linear(config.d_hidden, config.d_model))
            self.learned_positions = nn.Parameter(torch.empty(config.max_tokens, config.d_model))  # (max_tokens, d)
        self.to_empty(device="cpu")
        self.register_buffer("sinusoidal_positions", sinusoidal(config.max_tokens, config.d_model))
        rng.init_parameters(self, rng.torch_generator(config.seed))

    def init_parameters(self, generator: torch.Generator) -> None:
        """Learned positions start as N(0, 1) draws (the layers are drawn by rng.init_parameters)."""
        self.learned_positions.copy_(rng.normal(tuple(self.learned_positions.shape), generator))

    def positions(self, n: int) -> torch.Tensor:
        """The (n, d_model) encoding added to n tokens (zeros for "none")."""
        if n > self.config.max_tokens:
            raise ValueError(f"at most {self.config.max_tokens} tokens, got {n}")
        if self.config.pos_encoding == "sinusoidal":
            return self.sinusoidal_positions[:n]
        if self.config.pos_encoding == "learned":
            return self.learned_positions[:n]
        return torch.zeros(n, self.config.d_model, device=self.embed.weight.device)

    def forward(self, X: torch.Tensor) -> BlockOutput:
        """X: (..., N, d_in) tokens -> embedded (with positions), weights (..., N, N), output."""
        embedded = self.embed(X) + self.positions(X.shape[-2])                  # (..., N, d_model)
        q, k, v = self.W_q(embedded), self.W_k(embedded), self.W_v(embedded)    # (..., N, d_model)
        attended, weights = attention(q, k, v)                                  # (..., N, d), (..., N, N)
        x = embedded + attended
        output = x + self.feed_forward(x)                                       # (..., N, d_model)
        return BlockOutput(embedded=embedded, weights=weights, output=output)


def toy_image(size: int = 32) -> np.ndarray:
    """An RGB picture (size, size, 3) in [0, 1]: a sky gradient, a sun, a house, grass."""
    y, x = np.mgrid[0:size, 0:size] / (size - 1)                                # (size, size)
    image = np.stack([0.35 + 0.3 * y, 0.6 + 0.2 * y, np.full_like(y, 0.95)], axis=-1)
    sun = (x - 0.78) ** 2 + (y - 0.22) ** 2 < 0.018
    image[sun] = (1.0, 0.85, 0.2)
    image[y > 0.75] = (0.25, 0.65, 0.25)
    wall = (x > 0.15) & (x < 0.5) & (y > 0.45) & (y <= 0.75)
    image[wall] = (0.8, 0.35, 0.25)
    roof = (y > 0.25) & (y <= 0.45) & (np.abs(x - 0.325) < (y - 0.25) * 1.0)
    image[roof] = (0.45, 0.2, 0.15)
    door = (x > 0.28) & (x < 0.37) & (y > 0.6) & (y <= 0.75)
    image[door] = (0.3, 0.2, 0.1)
    return image


def image_to_patches(image: np.ndarray, patch: int) -> np.ndarray:
    """(H, W, C) -> (H/p * W/p, p * p * C), patches in row-major order."""
    h, w, c = image.shape
    grid = image.reshape(h // patch, patch, w // patch, patch, c)               # (gh, p, gw, p, C)
    return grid.transpose(0, 2, 1, 3, 4).reshape(-1, patch * patch * c)         # (gh*gw, p*p*C)


def patches_to_image(patches: np.ndarray, grid: int, patch: int, channels: int = 3) -> np.ndarray:
    """Inverse of image_to_patches for a square grid: (grid^2, p*p*C) -> (H, W, C)."""
    blocks = patches.reshape(grid, grid, patch, patch, channels)                # (gh, gw, p, p, C)
    return blocks.transpose(0, 2, 1, 3, 4).reshape(grid * patch, grid * patch, channels)


def make_permutation(n: int, kind: str, seed: int = 0) -> np.ndarray:
    """Indices `perm` with (P X)[i] = X[perm[i]]."""
    if kind == "random":
        return rng.numpy_generator(seed).permutation(n)
    if kind == "reverse":
        return np.arange(n)[::-1].copy()
    if kind == "swap first and last":
        perm = np.arange(n)
        perm[[0, -1]] = perm[[-1, 0]]
        return perm
    if kind == "shift by one":
        return np.roll(np.arange(n), 1)
    raise ValueError(f"unknown permutation {kind!r}; choose from {PERMUTATIONS}")


@dataclass(frozen=True)
class EquivarianceGap:
    """f(P X) and P f(X) for one block, input and permutation, and how far apart they are."""

    f_PX: np.ndarray       # (N, d) the block's output on the shuffled tokens
    P_fX: np.ndarray       # (N, d) the block's output, shuffled afterwards
    per_token: np.ndarray  # (N,) largest |f(PX) - P f(X)| of each token
    max_gap: float         # the largest of them
    scale: float           # largest |P f(X)|, to judge max_gap against


@torch.no_grad()
def equivariance_gap(block: EquivariantBlock, X: torch.Tensor, perm: np.ndarray) -> EquivarianceGap:
    """f(P X) and P f(X), their largest absolute difference, and per-token differences."""
    index = torch.as_tensor(perm)
    index = index.to(X.device)
    both = block(torch.stack([X[index], X])).output                             # (2, N, d)
    of_permuted, permuted_of = both[0], both[1][index]                          # f(P X), P f(X)
    per_token = (of_permuted - permuted_of).abs().amax(dim=-1)                  # (N,)
    return EquivarianceGap(f_PX=of_permuted.cpu().numpy(), P_fX=permuted_of.cpu().numpy(),
                           per_token=per_token.cpu().numpy(), max_gap=float(per_token.max()),
                           scale=float(permuted_of.abs().max()))


def features_to_colours(*features: np.ndarray) -> list[np.ndarray]:
    """Map (N, d) feature arrays to (N, 3) RGB in [0, 1] with one shared linear map:
    the top 3 principal directions of the first array, min-max scaled over all of them,
    so equal features get equal colours."""
    reference = features[0] - features[0].mean(axis=0)                          # (N, d)
    _, _, directions = np.linalg.svd(reference, full_matrices=False)           # (k, d)
    basis = directions[:3].T                                                    # (d, <=3)
    projected = [(f - features[0].mean(axis=0)) @ basis for f in features]     # (N, <=3) each
    stacked = np.concatenate(projected)
    low, high = stacked.min(axis=0), stacked.max(axis=0)
    colours = []
    for p in projected:
        scaled = (p - low) / np.where(high > low, high - low, 1.0)
        colours.append(np.pad(scaled, ((0, 0), (0, 3 - scaled.shape[1])), constant_values=0.5))
    return colours


@dataclass(frozen=True)
class PermutationExperiment:
    """What the permutation page shows: pictures, and the gaps for every encoding."""

    perm: np.ndarray                  # (N,) (P X)[i] = X[perm[i]]
    image: np.ndarray                 # (H, W, 3) the tokens in order
    shuffled: np.ndarray              # (H, W, 3) P X
    P_fX_picture: np.ndarray          # (H, W, 3) P f(X), each token coloured by its features
    f_PX_picture: np.ndarray          # (H, W, 3) f(P X), with the same colour map
    max_gap: float                    # largest |f(PX) - P f(X)| for the chosen encoding
    scale: float                      # largest |P f(X)| for the chosen encoding
    gaps: dict[str, np.ndarray]       # encoding -> (N,) per-token gaps
    max_gaps: dict[str, float]        # encoding -> largest gap


def run_experiment(tokens: str = "image patches", patch: int = 8, permutation: str = "random",
                   pos_encoding: str = "none", seed: int = 0, image_size: int = 32,
                   device: str | torch.device = "cpu") -> PermutationExperiment:
    """Everything the permutation page shows, from hashable settings (so it can be cached).

    Tokens are the patches of toy_image or random vectors of the same shape (drawn from
    `seed`). Returns the permutation, the input and shuffled pictures, colour codes of
    f(PX) and P f(X), the gap for the chosen encoding and per-token gaps for every encoding.
    """
    device = torch.device(device)
    image = toy_image(image_size)
    patches = image_to_patches(image, patch)                                   # (N, p*p*3)
    if tokens == "random vectors":
        patches = rng.numpy_generator(seed).uniform(size=patches.shape)
    elif tokens != "image patches":
        raise ValueError(f"tokens must be 'image patches' or 'random vectors', got {tokens!r}")
    n, grid = patches.shape[0], image_size // patch
    perm = make_permutation(n, permutation, seed)
    X = torch.as_tensor(patches, dtype=torch.float32, device=device)
    results = {}
    for encoding in POS_ENCODINGS:
        config = BlockConfig(d_in=patches.shape[1], pos_encoding=encoding, seed=seed)
        block = EquivariantBlock(config).to(device).eval()
        results[encoding] = equivariance_gap(block, X, perm)
    chosen = results[pos_encoding]
    colours = features_to_colours(chosen.P_fX, chosen.f_PX)                   # 2 x (N, 3)
    tile = lambda c: patches_to_image(np.repeat(c, patch * patch, axis=0).reshape(n, -1),  # noqa: E731
                                      grid, patch)
    return PermutationExperiment(
        perm=perm, image=patches_to_image(patches, grid, patch),
        shuffled=patches_to_image(patches[perm], grid, patch),
        P_fX_picture=tile(colours[0]), f_PX_picture=tile(colours[1]),
        max_gap=chosen.max_gap, scale=chosen.scale,
        gaps={name: r.per_token for name, r in results.items()},
        max_gaps={name: r.max_gap for name, r in results.items()})
