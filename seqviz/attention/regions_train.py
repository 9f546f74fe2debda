"""Training a words-to-regions model: fresh sentences of the grammar at every step, drawn from the
model's seed, and a per-pixel binary cross-entropy against the exact picture (seqviz.attention.scenes).

The loop is seqviz.core.train.train_loop, so a page can follow it and stop it; the measurements
and the shipped files are in seqviz.attention.regions_experiment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from seqviz.attention import scenes
from seqviz.attention.words_to_regions import RegionsConfig, WordsToRegions
from seqviz.core import rng
from seqviz.core.train import Progress, train_loop

__all__ = ["TrainSettings", "SETTINGS", "Batch", "batch", "templates_tensor", "new_model", "stepper", "train"]


@dataclass(frozen=True)
class TrainSettings:
    steps: int = 3000
    batch: int = 128
    lr: float = 3e-3
    clip: float = 1.0
    most_objects: int = scenes.MAX_OBJECTS   # training sentences name one to this many objects


SETTINGS = TrainSettings()


@dataclass(frozen=True)
class Batch:
    """Scenes with their word indices, lengths, target labels (B, 4) and target pictures."""

    scenes: tuple[scenes.Scene, ...]
    ids: torch.Tensor        # (B, MAX_TOKENS)
    lengths: torch.Tensor    # (B,)
    labels: torch.Tensor     # (B, 4) template index per quadrant

    @property
    def targets(self) -> torch.Tensor:
        """The exact patches (B, 4, Q, Q, 3)."""
        return templates_tensor()[self.labels]


@lru_cache(maxsize=1)
def templates_tensor() -> torch.Tensor:
    """scenes.templates() as a tensor (13, Q, Q, 3)."""
    return torch.tensor(scenes.templates())


def batch(items: list[scenes.Scene]) -> Batch:
    ids, lengths = scenes.encode(items)
    return Batch(tuple(items), torch.from_numpy(ids), torch.from_numpy(lengths),
                 torch.from_numpy(scenes.labels(items)))


def new_model(config: RegionsConfig, seed: int) -> WordsToRegions:
    """A model with its weights drawn from `seed`."""
    with rng.no_default_draws():
        model = WordsToRegions(config)
    return rng.init_parameters(model, rng.torch_generator(seed))


def stepper(model: WordsToRegions, seed: int, settings: TrainSettings,
             seen: set[str] | None = None) -> Callable[[], float]:
    """One optimisation step of `model` per call, on a fresh batch from the training stream of
    `seed` (the sentences drawn are added to `seen` when given); returns the step's loss.
    Loss: binary cross-entropy of every pixel."""
    model.train()
    stream = np.random.default_rng([seed, 1])
    optimiser = torch.optim.Adam(model.parameters(), lr=settings.lr)

    def step() -> float:
        drawn = scenes.random_scenes(settings.batch, stream, most=settings.most_objects)
        if seen is not None:
            seen.update(scenes.sentence(s) for s in drawn)
        data = batch(drawn)
        drawing = model(data.ids, data.lengths)
        loss = F.binary_cross_entropy_with_logits(drawing.logits, data.targets)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), settings.clip)
        optimiser.step()
        return loss.item()

    return step


def train(model: WordsToRegions, seed: int, settings: TrainSettings = SETTINGS, *,
          on_progress: Callable[[Progress], None] | None = None,
          should_stop: Callable[[], bool] | None = None,
          seen: set[str] | None = None, report_every: int | None = None
          ) -> tuple[WordsToRegions, list[dict[str, float]]]:
    """`model` trained on fresh scenes drawn from `seed` at every step (the sentences drawn are
    added to `seen` when given)."""
    step = stepper(model, seed, settings, seen)
    history = train_loop(lambda _: {"loss": step()}, settings.steps, on_progress=on_progress,
                         should_stop=should_stop, report_every=report_every or max(1, settings.steps // 100))
    return model.eval(), history
