"""The memory-task results over several training seeds, and their summary.

One training run is one draw: which rule a network finds depends on its initial
weights and on the order of its batches. Conclusions about an architecture rest on
several seeds, so this module trains every shipped model kind on both tasks with the
shipped settings (seqviz.recurrent.train.MemoryConfig) and one seed after another,
scores each run on four fixed sets, and summarises the runs per model as a mean and a
spread (standard deviation, minimum, maximum).

The four scores of a run, each on 512 sequences drawn from the run's seed:
- fit_accuracy: the training distribution (memorygen: token in the first half);
- val_accuracy, val_loss: the task's validation set (as in the training history);
- first_half_accuracy: token in the first half, 11 to 19 steps before the request at
  length 20 (the gaps memorygen trains on);
- second_half_accuracy: token in the second half, 1 to 10 steps before the request
  (memorygen's validation positions).

Reproduce models/memory_seeds.csv (models/MODELS.md; a few minutes on one CPU thread):

    python -m seqviz.recurrent.seeds --seeds 0 1 2 3 4 5 6 7 8 9
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from seqviz.core import checkpoints, records
from seqviz.recurrent import tasks
from seqviz.recurrent import train as memory_train

__all__ = ["SeedRun", "Spread", "ModelSummary", "score_run", "train_seeds", "summarise", "select",
           "spread_of", "count_at_least", "write_csv", "read_csv", "SEEDS_FILE", "METRICS"]

SEEDS_FILE = checkpoints.MODELS_DIR / "memory_seeds.csv"
METRICS = ("fit_accuracy", "val_accuracy", "val_loss", "first_half_accuracy", "second_half_accuracy")
EVAL_SIZE = memory_train.VAL_SIZE


@dataclass(frozen=True)
class SeedRun:
    """One trained model (task, kind, seed) and its scores."""

    task: str
    kind: str
    seed: int
    steps: int
    fit_accuracy: float
    val_accuracy: float
    val_loss: float
    first_half_accuracy: float
    second_half_accuracy: float
    train_seconds: float


@dataclass(frozen=True)
class Spread:
    """Mean and spread of one score over seeds."""

    mean: float
    std: float        # sample standard deviation (0 for a single run)
    minimum: float
    maximum: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        values = [float(v) for v in values]
        if not values:
            raise ValueError("no values to summarise")
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        return cls(statistics.fmean(values), std, min(values), max(values), len(values))


@dataclass(frozen=True)
class ModelSummary:
    """Every score of one (task, kind) over its seeds."""

    task: str
    kind: str
    seeds: tuple[int, ...]
    scores: tuple[tuple[str, Spread], ...]   # (metric, spread) in METRICS order

    def __getitem__(self, metric: str) -> Spread:
        return dict(self.scores)[metric]


def _accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return memory_train.evaluate(model, x, y)["accuracy"]


def score_run(model: torch.nn.Module, config: memory_train.MemoryConfig) -> dict[str, float]:
    """The four scores of a trained model (see the module docstring)."""
    length, seed = config.length, config.seed
    val = memory_train.evaluate(model, *tasks.memory_task(
        EVAL_SIZE, length, seed=seed, generalize=config.generalize, split="val"))
    halves = {name: _accuracy(model, *tasks.memory_task(EVAL_SIZE, length, seed=seed, generalize=True,
                                                        split=split))
              for name, split in (("first_half_accuracy", "train"), ("second_half_accuracy", "val"))}
    fit = _accuracy(model, *tasks.memory_task(EVAL_SIZE, length, seed=seed,
                                              generalize=config.generalize, split="train"))
    return {"fit_accuracy": fit, "val_accuracy": val["accuracy"], "val_loss": val["loss"], **halves}


def train_seeds(seeds: Iterable[int], *, tasks_: Sequence[str] = tasks.TASKS,
                kinds: Sequence[str] = memory_train.SHIPPED_KINDS,
                base: memory_train.MemoryConfig | None = None,
                device: str = "cpu", on_run: Callable[[SeedRun], None] | None = None
                ) -> tuple[SeedRun, ...]:
    """Train every (task, kind) once per seed with the `base` settings (default: the
    shipped ones, MemoryConfig()); one row per run."""
    base = base or memory_train.MemoryConfig()
    runs = []
    for seed in seeds:
        for task in tasks_:
            for kind in kinds:
                config = dataclasses.replace(base, task=task, kind=kind, seed=int(seed))
                start = time.perf_counter()
                model, _ = memory_train.train_memory_model(config, device)
                seconds = time.perf_counter() - start
                model = model.cpu()
                scores = score_run(model, config)
                run = SeedRun(task, kind, int(seed), config.steps, train_seconds=round(seconds, 2),
                              **{k: round(v, 6) for k, v in scores.items()})
                runs.append(run)
                if on_run is not None:
                    on_run(run)
    return tuple(runs)


def summarise(runs: Iterable[SeedRun]) -> tuple[ModelSummary, ...]:
    """Mean and spread of every score per (task, kind), in the order the runs came."""
    groups: dict[tuple[str, str], list[SeedRun]] = {}
    for run in runs:
        groups.setdefault((run.task, run.kind), []).append(run)
    return tuple(
        ModelSummary(task, kind, tuple(r.seed for r in rows),
                     tuple((m, Spread.of([getattr(r, m) for r in rows])) for m in METRICS))
        for (task, kind), rows in groups.items())


def select(runs: Iterable[SeedRun], task: str, kind: str) -> tuple[SeedRun, ...]:
    """The runs of one (task, kind)."""
    return tuple(r for r in runs if r.task == task and r.kind == kind)


def spread_of(runs: Iterable[SeedRun], task: str, kind: str, metric: str) -> Spread:
    """Mean and spread of one score of one (task, kind) over its seeds."""
    return Spread.of([getattr(r, metric) for r in select(runs, task, kind)])


def count_at_least(runs: Iterable[SeedRun], task: str, kind: str, metric: str, threshold: float) -> int:
    """How many seeds of (task, kind) score at least `threshold`."""
    return sum(getattr(r, metric) >= threshold for r in select(runs, task, kind))


def write_csv(runs: Iterable[SeedRun], path: str | Path = SEEDS_FILE) -> Path:
    """One CSV row per SeedRun, columns in field order."""
    return records.write_records(runs, SeedRun, path)


def read_csv(path: str | Path = SEEDS_FILE) -> tuple[SeedRun, ...]:
    """The rows written by `write_csv`; ValueError when a row is malformed."""
    return records.read_records(SeedRun, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--out", type=Path, default=SEEDS_FILE)
    args = parser.parse_args()
    torch.set_num_threads(1)  # as the shipped checkpoints were made: seed 0 reproduces them
    start = time.perf_counter()
    runs = train_seeds(args.seeds, on_run=lambda r: print(
        f"{r.task:9s} {r.kind:8s} seed {r.seed:2d}  fit {r.fit_accuracy:.3f}  val {r.val_accuracy:.3f}  "
        f"first half {r.first_half_accuracy:.3f}  second half {r.second_half_accuracy:.3f}  "
        f"({r.train_seconds:.1f} s)", flush=True))
    write_csv(runs, args.out)
    print(f"wrote {args.out} ({len(runs)} runs, {time.perf_counter() - start:.0f} s)")
    for summary in summarise(runs):
        val = summary["val_accuracy"]
        print(f"{summary.task:9s} {summary.kind:8s} val {val.mean:.3f} ± {val.std:.3f} "
              f"[{val.minimum:.3f}, {val.maximum:.3f}] over {val.n} seeds")


if __name__ == "__main__":
    main()
