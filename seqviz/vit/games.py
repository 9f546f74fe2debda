"""The experiment of the predictive ViT: many games to learn from, other games to test on.

A model trained on one video can score well on it by memorising it. To see what a model
learned as a rule, it trains on windows of many short games (each seed draws its own
background texture, the ball's start and direction, and the random items) and is measured
on games it never saw: the seeds of the two sets never overlap. Each test game's pixels
are split into classes (seqviz.vit.evaluate.pixel_classes): the ball entering a patch
(information that must come from another patch), the ball at a bounce, and the rest,
each against copying the last frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from seqviz.vit import video as videos
from seqviz.vit.evaluate import Evaluation, evaluate, pixel_classes
from seqviz.vit.model import PredictiveViT

__all__ = ["GameSet", "TRAIN_GAMES", "TEST_GAMES", "make_games", "training_windows", "Pooled",
           "evaluate_games"]


@dataclass(frozen=True)
class GameSet:
    """`count` games of `num_frames` frames, seeds first_seed, first_seed + 1, ..."""

    count: int
    num_frames: int
    first_seed: int
    size: int = 32
    textured_background: bool = True
    speed: float = 1.0

    @property
    def seeds(self) -> range:
        return range(self.first_seed, self.first_seed + self.count)

    def flat(self) -> GameSet:
        """The same games on a flat background."""
        return GameSet(self.count, self.num_frames, self.first_seed, self.size, False, self.speed)


TRAIN_GAMES = GameSet(count=64, num_frames=48, first_seed=10_000)   # what the shipped models learn
TEST_GAMES = GameSet(count=8, num_frames=48, first_seed=20_000)     # held out: no seed in common


def make_games(games: GameSet) -> list[videos.GameVideo]:
    """Render every game of the set (same set, same pixels)."""
    return [videos.game_with_masks(games.num_frames, games.size, seed=seed,
                                   textured_background=games.textured_background, speed=games.speed)
            for seed in games.seeds]


def training_windows(games: list[videos.GameVideo], frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every run of `frames` frames inside one game and the frame after it, over all games:
    inputs (N, frames, C, H, W) and targets (N, C, H, W); no window crosses two games."""
    pairs = [videos.windows(videos.to_tensor(game.frames), frames) for game in games]
    return torch.cat([inputs for inputs, _ in pairs]), torch.cat([targets for _, targets in pairs])


@dataclass(frozen=True, eq=False)
class Pooled:
    """A model's quality over several games, pooled over every predicted pixel and frame."""

    psnr: float                       # mean over all predicted frames of all games (dB)
    ssim: float
    copy_psnr: float
    copy_ssim: float
    errors: dict[str, float]          # mean |error| per pixel class (PIXEL_CLASSES keys)
    copy_errors: dict[str, float]
    pixels: dict[str, int]            # how many pixels each class holds
    games: list[Evaluation] = field(repr=False, default_factory=list)

    def ratio(self, name: str) -> float:
        """|error| of the model over |error| of copying, on one class (1: no better than copying)."""
        return self.errors[name] / self.copy_errors[name]

    def summary(self) -> dict[str, float]:
        values = {"psnr": self.psnr, "ssim": self.ssim, "copy_psnr": self.copy_psnr,
                  "copy_ssim": self.copy_ssim}
        for name in self.errors:
            values[f"error_{name}"] = self.errors[name]
            values[f"copy_error_{name}"] = self.copy_errors[name]
            values[f"ratio_{name}"] = self.ratio(name)
        return values


def evaluate_games(model: PredictiveViT, games: list[videos.GameVideo]) -> Pooled:
    """evaluate() on each game, pooled: PSNR and SSIM averaged over every predicted frame, the
    |error| of each pixel class over every pixel of that class in every game."""
    results, sums, copy_sums, counts = [], {}, {}, {}
    for game in games:
        result = evaluate(model, game.frames, movers=game.movers, surprise=game.surprise,
                          ball=game.ball, bounce=game.bounce)
        results.append(result)
        for name, count in result.class_pixels.items():      # each class's mean, weighted by its pixels
            counts[name] = counts.get(name, 0) + count
            if count:
                sums[name] = sums.get(name, 0.0) + result.classes[name] * count
                copy_sums[name] = copy_sums.get(name, 0.0) + result.copy_classes[name] * count
    errors = {name: sums.get(name, math.nan) / counts[name] if counts[name] else math.nan for name in counts}
    copy_errors = {name: copy_sums.get(name, math.nan) / counts[name] if counts[name] else math.nan
                   for name in counts}

    def mean(values: str) -> float:
        return float(np.concatenate([getattr(r, values) for r in results]).mean())

    return Pooled(psnr=mean("psnr"), ssim=mean("ssim"), copy_psnr=mean("copy_psnr"),
                  copy_ssim=mean("copy_ssim"), errors=errors, copy_errors=copy_errors, pixels=counts,
                  games=results)


@dataclass(frozen=True)
class BallAttention:
    """Where the patches that the ball is about to enter look, over many predictions."""

    mass: np.ndarray       # (layers, heads): mean attention weight on the ball's input patches
    uniform: float         # the mean share of tokens those patches are: uniform attention's mass
    queries: int           # how many (prediction, patch) pairs were averaged


@torch.inference_mode()
def attention_to_ball(model: PredictiveViT, games: list[videos.GameVideo]) -> BallAttention:
    """For every predicted frame and every patch of it that the ball enters (pixel class
    "entering"), the attention weight that patch's token (in the last input frame) puts on
    the tokens of the input frames that hold some of the ball, per layer and head, averaged;
    against the share of tokens those are, which is what uniform attention would put there."""
    c = model.config
    if not c.use_attention:
        raise ValueError("this model has no self-attention, so it has no attention to measure")
    p, g, n = c.patch_size, c.grid, c.patches_per_frame
    device = next(model.parameters()).device
    total, shares, count = np.zeros((c.depth, c.heads)), 0.0, 0
    for game in games:
        entering = pixel_classes(game.ball, game.bounce, c.frames, p)["entering"]     # (T-F, H, W)
        held = game.ball.reshape(len(game.ball), g, p, g, p).any((2, 4)).reshape(len(game.ball), n)
        indices = np.nonzero(entering.any((1, 2)))[0]
        if len(indices) == 0:
            continue
        inputs, _ = videos.windows(videos.to_tensor(game.frames), c.frames)          # (T-F, F, C, H, W)
        _, weights = model(inputs[indices].to(device), return_attention=True)       # (B, L, h, N, N)
        last = weights[:, :, :, -n:, :].float().cpu().numpy()                       # (B, L, h, P, N)
        for row, index in enumerate(indices):
            target = index + c.frames
            queries = entering[index].reshape(g, p, g, p).any((1, 3)).reshape(-1)   # (P,)
            window = held[target - c.frames:target]                                 # (F, P)
            ball_tokens = (window.any(0) if c.token_kind == "tube" else window).reshape(-1)  # (N,)
            on_ball = last[row][:, :, queries][..., ball_tokens].sum(-1)            # (L, h, q)
            total += on_ball.sum(-1)
            shares += ball_tokens.mean() * queries.sum()
            count += int(queries.sum())
    if count == 0:
        raise ValueError("the ball never enters a new patch in these games")
    return BallAttention(mass=total / count, uniform=shares / count, queries=count)
