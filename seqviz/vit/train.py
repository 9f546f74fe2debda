"""Training and evaluating the predictive ViT on one video (CURRICULUM.md section 5).

Every window of `frames` consecutive frames is an input and the frame after it the
target; training minimises the mean squared error with AdamW through
seqviz.core.train.train_loop (progress callback, stop flag, non-finite guard). On CUDA
the step runs under bf16 autocast and, if asked, a torch.compile'd model. Quality
is measured per frame with scikit-image's PSNR and SSIM. Shipped checkpoints are
made by the command line below (see models/MODELS.md):

    python -m seqviz.vit.train --preset full --seed 0 --out models/vit_full.pt

They train on a 1024-frame game whose first 96 frames are the page's default video,
and are measured on that video and on a game they never saw (seed + 1000).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from seqviz.core import checkpoints
from seqviz.core.device import free_memory_bytes, run_with_fallback
from seqviz.core.train import NonFiniteLoss, Progress, autocast, restore, snapshot, train_loop
from seqviz.vit import video as videos
from seqviz.vit.model import PRESETS, PredictiveViT, ViTConfig

__all__ = ["TrainSettings", "to_tensor", "windows", "make_step", "train", "train_keeping_last_good",
           "predict_all",
           "frame_metrics", "rollout", "error_split", "memory_budget_bytes", "DEFAULT_VIDEO"]

DEFAULT_VIDEO = dict(num_frames=96, size=32)   # the default game the shipped models learn


@dataclass(frozen=True)
class TrainSettings:
    steps: int = 300
    batch_size: int = 16
    learning_rate: float = 3e-3
    seed: int = 0
    compile: bool = False          # torch.compile, used on CUDA only
    mixed_precision: bool = True   # bf16 autocast, used on CUDA only


def to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 (T, H, W, 3) -> float (T, 3, H, W) in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0


def windows(clip: torch.Tensor, frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(T, C, H, W) -> inputs (T-frames, frames, C, H, W) and targets (T-frames, C, H, W)."""
    if clip.shape[0] <= frames:
        raise ValueError(f"the video has {clip.shape[0]} frames; the model reads {frames} and "
                         f"predicts the next, so it needs at least {frames + 1}")
    inputs = clip.unfold(0, frames, 1)[:-1]                  # (T-frames, C, H, W, frames)
    return inputs.permute(0, 4, 1, 2, 3).contiguous(), clip[frames:]


def make_step(model: PredictiveViT, clip: torch.Tensor, settings: TrainSettings,
              device: torch.device) -> Callable[[int], dict[str, float]]:
    """One AdamW step on a random batch of windows; cosine learning-rate decay to 10%."""
    inputs, targets = windows(clip, model.config.frames)
    inputs, targets = inputs.to(device), targets.to(device)
    generator = torch.Generator().manual_seed(settings.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=0.01)
    forward = model
    if settings.compile and device.type == "cuda":
        forward = torch.compile(model)

    def step(index: int) -> dict[str, float]:
        progress = index / max(1, settings.steps - 1)
        for group in optimizer.param_groups:
            group["lr"] = settings.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
        batch = torch.randint(0, len(inputs), (settings.batch_size,), generator=generator).to(device)
        model.train()
        with autocast(device if settings.mixed_precision else torch.device("cpu")):
            prediction = forward(inputs[batch])
            loss = F.mse_loss(prediction.float(), targets[batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return {"loss": loss.item()}

    return step


def train(config: ViTConfig, frames: np.ndarray, settings: TrainSettings, device: torch.device, *,
          model: PredictiveViT | None = None, on_progress: Callable[[Progress], None] | None = None,
          should_stop: Callable[[], bool] | None = None, report_every: int = 5
          ) -> tuple[PredictiveViT, list[dict[str, float]]]:
    """Train a (new, seeded) model on one video; returns it and the loss history."""
    if model is None:
        torch.manual_seed(settings.seed)
        model = PredictiveViT(config)
    model.to(device)
    step = make_step(model, to_tensor(frames), settings, device)
    history = train_loop(step, settings.steps, on_progress=on_progress, should_stop=should_stop,
                         report_every=report_every)
    return model.eval(), history


def train_keeping_last_good(config: ViTConfig, frames: np.ndarray, settings: TrainSettings,
                            device: torch.device, *, on_state: Callable[[PredictiveViT, Progress, str], None],
                            on_progress: Callable[[Progress], None] | None = None,
                            report_every: int = 5):
    """Train a fresh model, handing it to `on_state` at every report (so a stop keeps it).

    A GPU failure (out of memory) reruns on the CPU (seqviz.core.device.run_with_fallback);
    a non-finite loss restores the weights of the last report before NonFiniteLoss
    propagates. Returns (model, history, device used, notice or None).
    """
    def run(dev: torch.device):
        torch.manual_seed(settings.seed)
        model = PredictiveViT(config)
        good = {"weights": snapshot(model)}

        def report(progress: Progress) -> None:
            good["weights"] = snapshot(model)
            on_state(model, progress, dev.type.upper())
            if on_progress is not None:
                on_progress(progress)

        try:
            return train(config, frames, settings, dev, model=model, on_progress=report,
                         report_every=report_every)
        except NonFiniteLoss:
            restore(model, good["weights"])
            raise

    (model, history), used, notice = run_with_fallback(run, device)
    return model, history, used, notice


@torch.inference_mode()
def predict_all(model: PredictiveViT, frames: np.ndarray, device: torch.device | str = "cpu",
                batch_size: int = 64) -> np.ndarray:
    """The prediction of every frame from the frames before it: float (T-F, H, W, 3) in [0, 1]."""
    model.eval()
    device = torch.device(device)
    inputs, _ = windows(to_tensor(frames), model.config.frames)
    outputs = []
    for start in range(0, len(inputs), batch_size):
        with autocast(device):
            outputs.append(model(inputs[start:start + batch_size].to(device)).float().cpu())
    return torch.cat(outputs).clamp(0, 1).permute(0, 2, 3, 1).numpy()  # (T-F, H, W, 3)


def frame_metrics(truth: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PSNR (dB) and SSIM of each predicted frame against the truth, both float (N, H, W, 3) in [0, 1]."""
    truth, predicted = np.asarray(truth, np.float64), np.asarray(predicted, np.float64)
    psnr = np.array([peak_signal_noise_ratio(t, p, data_range=1.0) if not np.array_equal(t, p) else 99.0
                     for t, p in zip(truth, predicted)])
    ssim = np.array([structural_similarity(t, p, data_range=1.0, channel_axis=-1)
                     for t, p in zip(truth, predicted)])
    return psnr, ssim


@torch.inference_mode()
def rollout(model: PredictiveViT, frames: np.ndarray, start: int, steps: int,
            device: torch.device | str = "cpu") -> np.ndarray:
    """Predict `steps` frames from frame `start` on, feeding each prediction back in.

    Starts from the true frames start-F .. start-1; returns float (steps, H, W, 3).
    """
    model.eval()
    device = torch.device(device)
    f = model.config.frames
    if start < f:
        raise ValueError(f"the rollout must start at frame {f} or later")
    context = to_tensor(frames[start - f:start]).to(device)[None]     # (1, F, C, H, W)
    predicted = []
    for _ in range(steps):
        with autocast(device):
            nxt = model(context).float().clamp(0, 1)                  # (1, C, H, W)
        predicted.append(nxt[0])
        context = torch.cat([context[:, 1:], nxt[:, None]], 1)        # (1, F, C, H, W)
    return torch.stack(predicted).permute(0, 2, 3, 1).cpu().numpy()  # (steps, H, W, 3)


def memory_budget_bytes(device: torch.device) -> float:
    """How much memory one student's training may take: 80% of a GPU's free memory, 2 GiB on a CPU."""
    if device.type == "cuda":
        return 0.8 * free_memory_bytes(device)
    return 2.0 * 2**30


def error_split(truth: np.ndarray, predicted: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """Mean absolute error inside the masked pixels and outside them (N, H, W[, 3]); nan if empty."""
    error = np.abs(np.asarray(truth, float) - np.asarray(predicted, float)).mean(-1)  # (N, H, W)
    inside = float(error[mask].mean()) if mask.any() else float("nan")
    outside = float(error[~mask].mean()) if (~mask).any() else float("nan")
    return inside, outside


def evaluate(model: PredictiveViT, frames: np.ndarray, game: videos.GameVideo | None = None
             ) -> dict[str, float]:
    """Mean PSNR / SSIM / MSE of the model's predictions, and of copying the last frame.

    Given the game's masks, also the mean |error| on the ball and paddle, on the
    pixels random items changed, and on the rest.
    """
    f = model.config.frames
    truth = frames[f:].astype(np.float64) / 255.0
    predicted = predict_all(model, frames)
    psnr, ssim = frame_metrics(truth, predicted)
    copy = frames[f - 1:-1].astype(np.float64) / 255.0
    copy_psnr, copy_ssim = frame_metrics(truth, copy)
    metrics = {"psnr": float(psnr.mean()), "ssim": float(ssim.mean()),
               "mse": float(((truth - predicted) ** 2).mean()),
               "copy_last_psnr": float(copy_psnr.mean()), "copy_last_ssim": float(copy_ssim.mean())}
    if game is not None:
        movers, items = game.movers[f:], game.surprise[f:]
        rest = ~(movers | items)
        metrics["error_ball_paddle"] = error_split(truth, predicted, movers)[0]
        metrics["error_items"] = error_split(truth, predicted, items)[0]
        metrics["error_rest"] = error_split(truth, predicted, rest)[0]
        metrics["copy_error_ball_paddle"] = error_split(truth, copy, movers)[0]
    return metrics


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
    long_game = videos.game_with_masks(args.train_frames, DEFAULT_VIDEO["size"], seed=args.seed,
                                       textured_background=textured)
    settings = TrainSettings(steps=args.steps, seed=args.seed)
    model, history = train(PRESETS[args.preset], long_game.frames, settings, torch.device("cpu"),
                           report_every=50, on_progress=lambda p: print(
                               f"step {p.step} loss {p.metrics['loss']:.5f} {p.elapsed_s:.0f}s", flush=True))
    game = videos.game_with_masks(**DEFAULT_VIDEO, seed=args.seed, textured_background=textured)
    metrics = evaluate(model, game.frames, game)          # the page's default video (seen in training)
    unseen = videos.game_with_masks(**DEFAULT_VIDEO, seed=args.seed + 1000, textured_background=textured)
    metrics.update({f"unseen_{k}": v for k, v in evaluate(model, unseen.frames, unseen).items()})
    metrics["final_loss"] = float(np.mean([h["loss"] for h in history[-20:]]))
    metrics["steps"] = float(len(history))
    metrics["flat_background"] = float(args.flat)
    checkpoints.save(args.out, model, PRESETS[args.preset], metrics)
    curve = {"preset": args.preset, "seed": args.seed, "flat": args.flat, "train_frames": args.train_frames,
             "metrics": metrics,
             "loss": [round(h["loss"], 6) for h in history]}
    args.out.with_suffix(".json").write_text(json.dumps(curve, indent=1))
    print(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    main()
