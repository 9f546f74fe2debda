"""The shipped predictive ViTs: what each ablation removes, over several training seeds.

Every variant trains on the same many games (seqviz.vit.games.TRAIN_GAMES, or their
flat-background twins) with the same settings, from each of SEEDS, and is measured on
the held-out games by seqviz.vit.games.evaluate_games. The variants differ in one thing:
self-attention replaced by a token-wise feed-forward layer (no patch sees another), no
positions (the model cannot tell one patch from another by place), a flat background
(nothing but the ball, the paddle and the items to predict), or tube tokens (one token per
patch across the input frames, so that without attention a patch still sees its own past
and only the mixing between patches is gone). One more model, "one video", is the
exercise's original set-up: one long game, memorised, measured on an unseen one.

    python -m seqviz.vit.experiment --seeds 0 1 2

writes models/vit_<variant>_s<seed>.pt (weights, config, metrics, loss curve) and
models/vit_seeds.csv (one row per variant and seed). models/MODELS.md has the table.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from seqviz.core import checkpoints, records
from seqviz.core.train import train_loop
from seqviz.vit import games as game_sets
from seqviz.vit.model import PredictiveViT, ViTConfig, build
from seqviz.vit.train import TrainSettings, make_step_on

__all__ = ["Variant", "VARIANTS", "SEEDS", "ONE_VIDEO", "SETTINGS", "CONFIG", "SeedRow", "checkpoint_path",
           "train_variant", "command", "shipped_path", "load_checkpoint", "load_shipped", "read_rows", "CSV", "main"]

CONFIG = ViTConfig(pos_embedding="sinusoidal")              # 3 frames of 32 x 32, patch 4
SETTINGS = TrainSettings(steps=3000, batch_size=32, learning_rate=2e-3, change_weight=5.0,
                         warmup_steps=100)
SEEDS = (0, 1, 2)
ONE_VIDEO = "one_video"   # the exercise's set-up: one long game, memorised (seqviz.vit.train)
CSV = checkpoints.MODELS_DIR / "vit_seeds.csv"


@dataclass(frozen=True)
class Variant:
    label: str
    config: ViTConfig
    flat: bool           # trained and measured on flat-background games

    def games(self) -> tuple[game_sets.GameSet, game_sets.GameSet]:
        """(training games, held-out test games) of this variant's background."""
        train, test = game_sets.TRAIN_GAMES, game_sets.TEST_GAMES
        return (train.flat(), test.flat()) if self.flat else (train, test)


VARIANTS: dict[str, Variant] = {
    "full": Variant("Full", CONFIG, False),
    "no_attention": Variant("No self-attention", replace(CONFIG, use_attention=False), False),
    "no_pos": Variant("No positions", replace(CONFIG, pos_embedding="none"), False),
    "full_flat": Variant("Full, flat background", CONFIG, True),
    "no_pos_flat": Variant("No positions, flat background", replace(CONFIG, pos_embedding="none"), True),
    "full_tube": Variant("Full, tube tokens", replace(CONFIG, token_kind="tube"), False),
    "no_attention_tube": Variant("No self-attention, tube tokens",
                                 replace(CONFIG, token_kind="tube", use_attention=False), False),
}


@dataclass(frozen=True)
class SeedRow:
    """One trained model's quality on the held-out games (seqviz.core.records writes these)."""

    variant: str
    seed: int
    steps: int
    seconds: float
    final_loss: float
    psnr: float
    ssim: float
    copy_psnr: float
    copy_ssim: float
    error_entering: float
    copy_error_entering: float
    error_bounce: float
    copy_error_bounce: float
    error_rest: float
    copy_error_rest: float


def checkpoint_path(variant: str, seed: int, directory: Path = checkpoints.MODELS_DIR) -> Path:
    return Path(directory) / f"vit_{variant}_s{seed}.pt"


def train_variant(name: str, seed: int, settings: TrainSettings = SETTINGS, *,
                  log=None) -> tuple[PredictiveViT, SeedRow, list[float]]:
    """Train one variant from one seed on its training games (CPU) and measure it on the test games."""
    variant = VARIANTS[name]
    train_games, test_games = variant.games()
    inputs, targets = game_sets.training_windows(game_sets.make_games(train_games), variant.config.frames)
    model = build(variant.config, seed)
    settings = replace(settings, seed=seed)
    step = make_step_on(model, inputs, targets, settings, torch.device("cpu"))
    start = time.perf_counter()
    history = train_loop(step, settings.steps, report_every=250,
                         on_progress=log and (lambda p: log(f"{name} s{seed} step {p.step} "
                                                            f"loss {p.metrics['loss']:.5f} {p.elapsed_s:.0f}s")))
    seconds = time.perf_counter() - start
    model.eval()
    losses = [h["loss"] for h in history]
    pooled = game_sets.evaluate_games(model, game_sets.make_games(test_games))
    values = pooled.summary()
    row = SeedRow(variant=name, seed=seed, steps=len(losses), seconds=round(seconds, 1),
                  final_loss=float(np.mean(losses[-50:])),
                  **{key: values[key] for key in SeedRow.__dataclass_fields__
                     if key not in ("variant", "seed", "steps", "seconds", "final_loss")})
    return model, row, losses


def shipped_path(name: str, seed: int = 0) -> Path:
    """The file of a shipped model: a VARIANTS key and one of SEEDS, or ONE_VIDEO (seed 0 only)."""
    if name == ONE_VIDEO:
        if seed != 0:
            raise ValueError(f"the {ONE_VIDEO!r} model was trained from seed 0 only")
        return checkpoints.MODELS_DIR / "vit_one_video.pt"
    if name not in VARIANTS:
        raise ValueError(f"no shipped model {name!r}; choose one of {', '.join([*VARIANTS, ONE_VIDEO])}")
    if seed not in SEEDS:
        raise ValueError(f"the shipped {name!r} models were trained from seeds {SEEDS}, not {seed}")
    return checkpoint_path(name, seed)


def load_checkpoint(name: str, seed: int = 0) -> checkpoints.Checkpoint:
    """A shipped checkpoint (see shipped_path): the model on the CPU in eval mode, its metrics and record."""
    return checkpoints.load_model(shipped_path(name, seed), lambda config: PredictiveViT(ViTConfig(**config)))


def load_shipped(name: str, seed: int = 0) -> tuple[PredictiveViT, ViTConfig]:
    """A shipped model and its config: name in VARIANTS ("full", "no_attention", "no_pos",
    "full_flat", "no_pos_flat") with a seed of SEEDS, or ONE_VIDEO; CPU, eval mode."""
    model = load_checkpoint(name, seed).model
    return model, model.config


def read_rows(path: Path = CSV) -> list[SeedRow]:
    return list(records.read_records(SeedRow, path))


def command(name: str, seed: int, steps: int = SETTINGS.steps) -> str:
    """The command that makes exactly the file of one variant and seed (each trains alone)."""
    return (f"python -m seqviz.vit.experiment --variants {name} --seeds {seed}"
            + (f" --steps {steps}" if steps != SETTINGS.steps else ""))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the shipped predictive ViTs on many games.")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--steps", type=int, default=SETTINGS.steps)
    parser.add_argument("--out", type=Path, default=checkpoints.MODELS_DIR)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    settings = replace(SETTINGS, steps=args.steps)
    rows = []
    for name in args.variants:
        for seed in args.seeds:
            model, row, losses = train_variant(name, seed, settings, log=lambda line: print(line, flush=True))
            metrics = {key: value for key, value in row.__dict__.items() if isinstance(value, float)}
            record = {"command": command(name, seed, args.steps), "variant": name, "seed": seed, "metrics": metrics,
                      "loss": [round(loss, 6) for loss in losses]}
            checkpoints.save(checkpoint_path(name, seed, args.out), model, VARIANTS[name].config, metrics, record)
            rows.append(row)
            print(f"{name} s{seed}: entering {row.error_entering:.3f} (copy {row.copy_error_entering:.3f}, "
                  f"{row.error_entering / row.copy_error_entering:.2f}x), bounce {row.error_bounce:.3f} "
                  f"(copy {row.copy_error_bounce:.3f}), rest {row.error_rest:.4f} (copy "
                  f"{row.copy_error_rest:.4f}), PSNR {row.psnr:.2f} (copy {row.copy_psnr:.2f}) "
                  f"{row.seconds:.0f}s", flush=True)
    records.merge_records(rows, SeedRow, args.out / CSV.name, lambda r: (list(VARIANTS).index(r.variant), r.seed))
    if any(not math.isfinite(row.error_entering) for row in rows):
        raise SystemExit("a test class was empty: check the test games")


if __name__ == "__main__":
    main()
