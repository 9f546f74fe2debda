"""Training the predictive ViT: on one video, or on windows of many (seqviz.vit.games).

Every window of `frames` consecutive frames is an input and the frame after it the
target; training minimises the mean squared error (optionally weighting the pixels that
change, weighted_mse) with AdamW through seqviz.core.train.train_loop (progress
callback, stop flag, non-finite guard). The model is built and seeded by
seqviz.vit.model.build and the batches are drawn from a generator of the same seed, so
two trainings with one seed give the same weights even when they run at the same time.
On CUDA the step runs under bf16 autocast and, if asked, a torch.compile'd model.
Quality is measured by seqviz.vit.evaluate.

The command line below trains on one long game: the exercise's original set-up, in which
a model can memorise its video. It made the shipped "one video" model (models/MODELS.md);
the many-games models come from seqviz.vit.experiment.

    python -m seqviz.vit.train --preset full --seed 0 --out models/vit_one_video.pt

It trains on a 1024-frame game whose first 96 frames are the page's default video, and
is measured on that video and on a game it never saw (seed + 1000).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from seqviz.core import checkpoints, memory, rng
from seqviz.core.device import run_with_fallback
from seqviz.core.train import NonFiniteLoss, Progress, autocast, restore, snapshot, train_loop
from seqviz.vit import video as videos
from seqviz.vit.evaluate import evaluate
from seqviz.vit.model import PRESETS, PredictiveViT, ViTConfig, build, memory_estimate_bytes

__all__ = ["TrainSettings", "TrainResult", "make_step", "make_step_on", "weighted_mse", "CHANGED", "train",
           "train_keeping_last_good", "training_budget", "main"]

UNSEEN_SEED_OFFSET = 1000   # the unseen test game's seed is the training seed + this
CHANGED = 0.1               # a pixel "changes" when a colour moves by more than this (of 1)


@dataclass(frozen=True)
class TrainSettings:
    steps: int = 300
    batch_size: int = 16
    learning_rate: float = 3e-3
    seed: int = 0
    compile: bool = False          # torch.compile, used on CUDA only
    mixed_precision: bool = True   # bf16 autocast, used on CUDA only
    change_weight: float = 0.0     # pixels that change from the last input frame weigh 1 + this
    warmup_steps: int = 0          # linear learning-rate warm-up before the cosine decay


@dataclass(frozen=True)
class TrainResult:
    """A trained model (eval mode), the loss of every step, and where it trained."""

    model: PredictiveViT
    losses: tuple[float, ...]
    device: torch.device
    notice: str | None = None      # why it ran elsewhere than asked (a GPU failure), if it did


def training_budget(config: ViTConfig, batch_size: int, device: torch.device | str) -> memory.Budget:
    """Whether training `config` with `batch_size` fits the memory one job may take on `device`."""
    return memory.check(memory_estimate_bytes(config, batch_size), device,
                        f"Training this model ({config.tokens:,} tokens, batch {batch_size})")


def weighted_mse(prediction: torch.Tensor, target: torch.Tensor, last: torch.Tensor,
                 change_weight: float) -> torch.Tensor:
    """Mean squared error in which every pixel that changes from the last input frame (some
    colour by more than CHANGED) weighs 1 + change_weight, the others 1; all (B, C, H, W).

    With plain MSE (change_weight 0) a moving ball, about 1.5 % of the pixels, barely counts,
    and predicting "nothing moves" is nearly optimal; weighting the changes makes the pixels
    that need information from the past, or from elsewhere, matter."""
    if change_weight == 0:
        return F.mse_loss(prediction, target)
    squared = (prediction - target) ** 2
    changed = ((target - last).abs().amax(1, keepdim=True) > CHANGED).to(squared.dtype)  # (B, 1, H, W)
    weight = 1 + change_weight * changed
    return (squared * weight).sum() / (weight.sum() * squared.shape[1])


def make_step(model: PredictiveViT, clip: torch.Tensor, settings: TrainSettings,
              device: torch.device) -> Callable[[int], dict[str, float]]:
    """One AdamW step on a random batch of the windows of one clip (T, C, H, W)."""
    inputs, targets = videos.windows(clip, model.config.frames)
    return make_step_on(model, inputs, targets, settings, device)


def make_step_on(model: PredictiveViT, inputs: torch.Tensor, targets: torch.Tensor,
                 settings: TrainSettings, device: torch.device) -> Callable[[int], dict[str, float]]:
    """One AdamW step on a random batch of windows (inputs (N, F, C, H, W), targets (N, C, H, W)):
    the loss is weighted_mse, the learning rate warms up linearly, then decays to 10% along a
    cosine."""
    inputs, targets = inputs.to(device), targets.to(device)
    generator = rng.torch_generator(settings.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=0.01)
    forward = model
    if settings.compile and device.type == "cuda":
        forward = torch.compile(model)

    def step(index: int) -> dict[str, float]:
        progress = index / max(1, settings.steps - 1)
        for group in optimizer.param_groups:
            warm = min(1.0, (index + 1) / settings.warmup_steps) if settings.warmup_steps else 1.0
            group["lr"] = warm * settings.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
        batch = torch.randint(0, len(inputs), (settings.batch_size,), generator=generator).to(device)
        model.train()
        with autocast(device if settings.mixed_precision else torch.device("cpu")):
            window = inputs[batch]
            prediction = forward(window)
            loss = weighted_mse(prediction.float(), targets[batch], window[:, -1], settings.change_weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return {"loss": loss.item()}

    return step


def train(config: ViTConfig, frames: np.ndarray | tuple[torch.Tensor, torch.Tensor], settings: TrainSettings,
          device: torch.device, *, model: PredictiveViT | None = None,
          on_progress: Callable[[Progress], None] | None = None,
          should_stop: Callable[[], bool] | None = None, report_every: int = 5) -> TrainResult:
    """Train a model (a new one built from `settings.seed` unless given) on one video, uint8
    (T, H, W, 3), or on windows of many (inputs, targets), as seqviz.vit.games.training_windows
    makes them."""
    if model is None:
        model = build(config, settings.seed)
    model.to(device)
    if isinstance(frames, tuple):
        step = make_step_on(model, *frames, settings, device)
    else:
        step = make_step(model, videos.to_tensor(frames), settings, device)
    history = train_loop(step, settings.steps, on_progress=on_progress, should_stop=should_stop,
                         report_every=report_every)
    return TrainResult(model.eval(), tuple(h["loss"] for h in history), device)


def train_keeping_last_good(config: ViTConfig, frames: np.ndarray | tuple[torch.Tensor, torch.Tensor],
                            settings: TrainSettings,
                            device: torch.device, *, on_state: Callable[[PredictiveViT, Progress, str], None],
                            on_progress: Callable[[Progress], None] | None = None,
                            should_stop: Callable[[], bool] | None = None,
                            report_every: int = 5) -> TrainResult:
    """Train a fresh model, handing it to `on_state` at every report (so a stop keeps it).

    A GPU failure (out of memory) reruns on the CPU (seqviz.core.device.run_with_fallback)
    and the result's notice says so; a non-finite loss restores the weights of the last
    report before NonFiniteLoss propagates.
    """
    def run(dev: torch.device) -> TrainResult:
        model = build(config, settings.seed)
        good = {"weights": snapshot(model)}

        def report(progress: Progress) -> None:
            good["weights"] = snapshot(model)
            on_state(model, progress, dev.type.upper())
            if on_progress is not None:
                on_progress(progress)

        try:
            return train(config, frames, settings, dev, model=model, on_progress=report,
                         should_stop=should_stop, report_every=report_every)
        except NonFiniteLoss:
            restore(model, good["weights"])
            raise

    result, used, notice = run_with_fallback(run, device)
    return TrainResult(result.model, result.losses, used, notice)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train a predictive ViT on the default game.")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="full")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--train-frames", type=int, default=1024,
                        help="length of the training game; its first 96 frames are the page's default video")
    parser.add_argument("--flat", action="store_true", help="flat background instead of textured")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (1 is reproducible)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    textured = not args.flat
    long_game = videos.game_with_masks(args.train_frames, videos.DEFAULT_VIDEO["size"], seed=args.seed,
                                       textured_background=textured)
    settings = TrainSettings(steps=args.steps, seed=args.seed)
    result = train(PRESETS[args.preset], long_game.frames, settings, torch.device("cpu"),
                   report_every=50, on_progress=lambda p: print(
                       f"step {p.step} loss {p.metrics['loss']:.5f} {p.elapsed_s:.0f}s", flush=True))
    metrics: dict[str, float] = {}
    for prefix, seed in (("", args.seed), ("unseen_", args.seed + UNSEEN_SEED_OFFSET)):
        game = videos.game_with_masks(**videos.DEFAULT_VIDEO, seed=seed, textured_background=textured)
        measured = evaluate(result.model, game.frames, movers=game.movers, surprise=game.surprise)
        metrics.update({prefix + name: value for name, value in measured.summary().items()})
    metrics["final_loss"] = float(np.mean(result.losses[-20:]))
    metrics["steps"] = float(len(result.losses))
    metrics["flat_background"] = float(args.flat)
    record = {"command": "python -m seqviz.vit.train " + " ".join(sys.argv[1:] if argv is None else argv),
              "preset": args.preset, "seed": args.seed, "flat": args.flat,
              "train_frames": args.train_frames, "threads": args.threads, "metrics": metrics,
              "loss": [round(loss, 6) for loss in result.losses]}
    checkpoints.save(args.out, result.model, PRESETS[args.preset], metrics, record)
    print(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    main()
