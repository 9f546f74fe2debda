"""A predictive Vision Transformer: the patches of n-1 frames in, frame n out.

After Dosovitskiy et al. 2020, "An Image is Worth 16x16 Words" (ViT): each frame is
cut into p x p patches, each patch is flattened and projected linearly to the model
width, positional embeddings say where (row, column) and when (which frame) a patch
is, and pre-norm transformer encoder layers mix the tokens. A linear head maps the
tokens of the last input frame back to patches, added to that frame: the model
predicts the change from the last frame. Two ablations:
`use_attention=False` puts a token-wise feed-forward layer where self-attention was
(no information moves between patches), and `pos_embedding="none"` drops positions
(the model becomes permutation-equivariant over patches). With `token_kind="tube"` a
token is one patch across all the input frames (its pixels in every frame, projected
together, with a position in space only): then no attention removes only the mixing
between patches, not the view of a patch's own past.

Self-attention is seqviz.attention.attention.attention (the explicit softmax when the
weights are wanted, the fused kernel when not) and the fixed positions are
seqviz.attention.positional.sinusoidal. A model is built, then seeded:
``build(config, seed)`` = ``PredictiveViT(config)`` + ``rng.init_parameters(model,
rng.torch_generator(seed))``, which draws every weight from that generator alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from seqviz.attention.attention import attention
from seqviz.attention.positional import sinusoidal
from seqviz.core import rng

__all__ = ["ViTConfig", "PRESETS", "POS_EMBEDDINGS", "PredictiveViT", "build", "parameter_count",
           "flops_per_step", "memory_estimate_bytes", "validate"]

POS_EMBEDDINGS = ("learned", "sinusoidal", "none")
TOKENS = ("frame", "tube")    # one token per patch of each frame, or per patch across the frames


@dataclass(frozen=True)
class ViTConfig:
    frames: int = 3               # input frames (n - 1)
    image_size: int = 32
    patch_size: int = 4
    width: int = 64
    depth: int = 2
    heads: int = 4
    mlp_ratio: float = 2.0
    use_attention: bool = True
    pos_embedding: str = "learned"
    channels: int = 3
    token_kind: str = "frame"     # "tube": one token per patch, its pixels in every input frame

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size

    @property
    def patches_per_frame(self) -> int:
        return self.grid ** 2

    @property
    def tokens(self) -> int:
        return self.patches_per_frame if self.token_kind == "tube" else self.frames * self.patches_per_frame

    @property
    def patch_dim(self) -> int:
        return self.channels * self.patch_size ** 2


PRESETS: dict[str, ViTConfig] = {
    "full": ViTConfig(),
    "no_attention": ViTConfig(use_attention=False),
    "no_pos": ViTConfig(pos_embedding="none"),
    "tiny": ViTConfig(frames=2, width=32, depth=1, heads=2),
}


def validate(config: ViTConfig) -> list[str]:
    """What is wrong with a configuration, in words (empty when it is usable)."""
    problems = []
    if config.frames < 1:
        problems.append("at least one input frame is needed")
    if config.patch_size < 1 or config.image_size % config.patch_size:
        problems.append(f"the patch size {config.patch_size} does not divide the image size "
                        f"{config.image_size}")
    if config.heads < 1 or config.width % config.heads:
        problems.append(f"the width {config.width} is not divisible by {config.heads} heads")
    if config.token_kind not in TOKENS:
        problems.append(f"token_kind must be one of {TOKENS}")
    if config.pos_embedding not in POS_EMBEDDINGS:
        problems.append(f"pos_embedding must be one of {POS_EMBEDDINGS}")
    if config.depth < 1 or config.width < 1 or config.mlp_ratio <= 0:
        problems.append("depth, width and mlp ratio must be positive")
    return problems


class SelfAttention(nn.Module):
    """Multi-head self-attention through seqviz's one attention function."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, return_weights: bool = False):
        batch, tokens, width = x.shape
        q, k, v = self.qkv(x).view(batch, tokens, 3, self.heads, width // self.heads
                                   ).permute(2, 0, 3, 1, 4)          # 3 x (B, heads, N, d_head)
        mixed, weights = attention(q, k, v, need_weights=return_weights)  # (B, heads, N, d_head)
        mixed = mixed.transpose(1, 2).reshape(batch, tokens, width)  # (B, N, width)
        return self.out(mixed), weights


class TokenwiseMixer(nn.Module):
    """The no-attention ablation: a feed-forward layer applied to each token alone."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, width))

    def forward(self, x: torch.Tensor, return_weights: bool = False):
        return self.net(x), None


class Block(nn.Module):
    """Pre-norm encoder layer: x + mix(LN x), then x + MLP(LN x)."""

    def __init__(self, config: ViTConfig):
        super().__init__()
        mixer = SelfAttention if config.use_attention else TokenwiseMixer
        hidden = max(1, int(config.width * config.mlp_ratio))
        self.norm1, self.norm2 = nn.LayerNorm(config.width), nn.LayerNorm(config.width)
        self.mix = mixer(config.width, config.heads)
        self.mlp = nn.Sequential(nn.Linear(config.width, hidden), nn.GELU(), nn.Linear(hidden, config.width))

    def forward(self, x: torch.Tensor, return_weights: bool = False):
        mixed, weights = self.mix(self.norm1(x), return_weights)
        x = x + mixed
        return x + self.mlp(self.norm2(x)), weights


class PredictiveViT(nn.Module):
    """frames (B, F, C, H, W) in [0, 1] -> next frame (B, C, H, W) [, attention per layer]."""

    def __init__(self, config: ViTConfig):
        super().__init__()
        problems = validate(config)
        if problems:
            raise ValueError("; ".join(problems))
        self.config = config
        c = config
        tube = c.token_kind == "tube"
        self.embed = nn.Linear(c.patch_dim * (c.frames if tube else 1), c.width)
        if c.pos_embedding == "learned":      # drawn by init_parameters
            self.space = nn.Parameter(torch.zeros(c.patches_per_frame, c.width))   # (P, width)
            self.time = nn.Parameter(torch.zeros(c.frames, c.width))               # (F, width)
        elif c.pos_embedding == "sinusoidal":
            rows = torch.arange(c.patches_per_frame) // c.grid
            cols = torch.arange(c.patches_per_frame) % c.grid
            half = c.width // 2   # first half of the width says the row, second the column
            space = torch.cat([sinusoidal(c.grid, half)[rows], sinusoidal(c.grid, c.width - half)[cols]], -1)
            self.register_buffer("space", space, persistent=False)          # (P, width)
            self.register_buffer("time", sinusoidal(c.frames, c.width) * 0.5, persistent=False)
        if tube and c.pos_embedding == "learned":
            del self.time                     # a tube token spans every frame: no frame position
        elif tube and c.pos_embedding == "sinusoidal":
            self.register_buffer("time", torch.zeros(1, c.width), persistent=False)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.depth))
        self.norm = nn.LayerNorm(c.width)
        self.head = nn.Linear(c.width, c.patch_dim)
        self._zero_head()

    @torch.no_grad()
    def _zero_head(self) -> None:
        """A zero head predicts no change: the model starts as "copy the last frame"."""
        self.head.weight.zero_()
        self.head.bias.zero_()

    @torch.no_grad()
    def init_parameters(self, generator: torch.Generator) -> None:
        """The model's own parameters, after seqviz.core.rng.init_parameters drew its layers:
        learned positions 0.02 * N(0, 1) from `generator`, and the head back to zero."""
        if self.config.pos_embedding == "learned":
            self.space.copy_(rng.normal(tuple(self.space.shape), generator, std=0.02))
            if self.config.token_kind == "frame":
                self.time.copy_(rng.normal(tuple(self.time.shape), generator, std=0.02))
        self._zero_head()

    def patchify(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, F, C, H, W) -> (B, F, P, C*p*p), patches in row-major order."""
        b, f, ch, h, w = frames.shape
        p = self.config.patch_size
        x = frames.reshape(b, f, ch, h // p, p, w // p, p)              # (B, F, C, gh, p, gw, p)
        x = x.permute(0, 1, 3, 5, 2, 4, 6)                              # (B, F, gh, gw, C, p, p)
        return x.reshape(b, f, (h // p) * (w // p), ch * p * p)         # (B, F, P, C*p*p)

    def unpatchify(self, patches: torch.Tensor) -> torch.Tensor:
        """(B, P, C*p*p) -> (B, C, H, W)."""
        c = self.config
        b = patches.shape[0]
        x = patches.reshape(b, c.grid, c.grid, c.channels, c.patch_size, c.patch_size)  # (B, gh, gw, C, p, p)
        x = x.permute(0, 3, 1, 4, 2, 5)                                 # (B, C, gh, p, gw, p)
        return x.reshape(b, c.channels, c.image_size, c.image_size)    # (B, C, H, W)

    def forward(self, frames: torch.Tensor, return_attention: bool = False):
        c = self.config
        b = frames.shape[0]
        patches = self.patchify(frames)                                 # (B, F, P, C*p*p)
        if c.token_kind == "tube":
            tube = patches.permute(0, 2, 1, 3).reshape(b, c.patches_per_frame, -1)  # (B, P, F*C*p*p)
            x = self.embed(tube)                                        # (B, P, width)
            if c.pos_embedding != "none":
                x = x + self.space[None]
        else:
            tokens = self.embed(patches)                                # (B, F, P, width)
            if c.pos_embedding != "none":
                tokens = tokens + self.time[None, :, None, :] + self.space[None, None, :, :]
            x = tokens.reshape(b, c.tokens, c.width)                    # (B, F*P, width), frame-major
        attention = []
        for block in self.blocks:
            x, weights = block(x, return_attention)
            if weights is not None:
                attention.append(weights)                               # (B, heads, N, N)
        last = self.norm(x[:, -c.patches_per_frame:])                   # (B, P, width)
        change = self.unpatchify(self.head(last))                       # (B, C, H, W)
        prediction = frames[:, -1] + change
        if return_attention:
            return prediction, (torch.stack(attention, 1) if attention else None)  # (B, L, heads, N, N)
        return prediction


def build(config: ViTConfig, seed: int) -> PredictiveViT:
    """A new model whose every parameter is drawn from a generator seeded with `seed`."""
    with rng.no_default_draws():
        model = PredictiveViT(config)
    rng.init_parameters(model, rng.torch_generator(seed))
    return model


def parameter_count(config: ViTConfig) -> int:
    """Trainable parameters of the model the config describes (counted on the meta device)."""
    with torch.device("meta"):
        model = PredictiveViT(config)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def flops_per_step(config: ViTConfig, batch_size: int = 16) -> float:
    """Estimated floating-point operations of one training step (forward + backward ≈ 3×forward).

    Counts multiply-adds of the matrix products as 2 FLOPs; norms and softmax are ignored.
    """
    c = config
    n, d, hidden = c.tokens, c.width, c.width * c.mlp_ratio
    mix = (2 * n * d * 3 * d + 4 * n * n * d + 2 * n * d * d) if c.use_attention else 4 * n * d * d
    per_layer = mix + 4 * n * d * hidden
    embed = 2 * c.frames * c.patches_per_frame * c.patch_dim * d     # the same pixels in either token kind
    forward = embed + c.depth * per_layer + 2 * c.patches_per_frame * d * c.patch_dim
    return 3.0 * forward * batch_size


def memory_estimate_bytes(config: ViTConfig, batch_size: int = 16) -> float:
    """Training memory: weights, their gradients and Adam's two moments, and the activations a
    step keeps, about 24 numbers per token and width per layer (with the MLP ratio 2 of the page).
    Training computes attention with the fused kernel, which keeps no N x N matrix. Checked
    within 1.5x of measured peaks (tests/unit/test_memory_estimates.py)."""
    c = config
    n, d = c.tokens, c.width
    weights = 4 * (c.depth * (12 + 2 * c.mlp_ratio) * d * d + n * d + 2 * c.patch_dim * d)
    per_layer = n * d * (14 + 5 * c.mlp_ratio) + (4 * c.heads * n if c.use_attention else 0)
    activations = 4 * batch_size * (c.depth * per_layer + 4 * n * c.patch_dim)
    return 4 * weights + activations

