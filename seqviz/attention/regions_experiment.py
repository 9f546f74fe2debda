"""Training the words-to-regions models, measuring them on a test set, and the shipped files.

Both models (seqviz.attention.words_to_regions) train on fresh scenes drawn at every step
from their seed, and are measured on the same TEST_PER_COUNT test scenes for each number
of objects (1 to 4), drawn from a stream no training run reads, every EVALUATE_EVERY steps
(the learning curves) and at the end. A drawn quadrant counts as right when, of the 13
quadrants a scene can hold (empty, or one of 4 colours x 3 shapes), the nearest to it (mean
squared error) is the one the sentence asks for. EXPERIMENTS: each model trained on
sentences of one to four objects, and again on one to three only ("-upto3"), so that the
four-object test sentences are longer than any it read.

    python -m seqviz.attention.regions_experiment --seeds 0 1 2

writes models/regions_<experiment>_s<seed>.pt (+ .json with its loss curve),
models/regions_seeds.csv (one row per experiment, seed and number of objects),
models/regions_curves.csv (the same during training) and models/regions_attention.csv
(where the attention models' quadrants look, per experiment and seed).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from seqviz.attention import scenes
from seqviz.attention.regions_train import (
    SETTINGS,
    Batch,
    TrainSettings,
    batch,
    new_model,
    stepper,
    templates_tensor,
    train,
)
from seqviz.attention.words_to_regions import RegionsConfig, WordsToRegions
from seqviz.core import checkpoints, records, rng
from seqviz.core.train import Progress, train_loop

__all__ = ["TrainSettings", "SETTINGS", "EXPERIMENTS", "SEEDS", "TEST_PER_COUNT", "EVALUATE_EVERY",
           "EARLY_STEP", "QualityRow", "CurveRow", "AttentionRow", "Batch", "batch", "test_set", "new_model",
           "train", "train_side_by_side", "predict_labels", "measure", "measure_attention", "phrase_spans",
           "checkpoint_path", "load_shipped", "read_quality", "read_curves", "read_attention", "command", "main"]

SEEDS = (0, 1, 2)
DATA_SEED = 0
TEST_PER_COUNT = 250
EVALUATE_EVERY = 100
EARLY_STEP = 800          # a copy of the models trained on 1-4 objects is also kept after this many steps
QUALITY_CSV = checkpoints.MODELS_DIR / "regions_seeds.csv"
CURVES_CSV = checkpoints.MODELS_DIR / "regions_curves.csv"
ATTENTION_CSV = checkpoints.MODELS_DIR / "regions_attention.csv"


EXPERIMENTS = {
    "attention": (RegionsConfig("attention"), SETTINGS),
    "one-vector": (RegionsConfig("one-vector"), SETTINGS),
    "attention-upto3": (RegionsConfig("attention"), replace(SETTINGS, most_objects=3)),
    "one-vector-upto3": (RegionsConfig("one-vector"), replace(SETTINGS, most_objects=3)),
}


@lru_cache(maxsize=2)
def test_set(per_count: int = TEST_PER_COUNT, seed: int = DATA_SEED) -> Batch:
    """`per_count` scenes with 1, 2, 3 and 4 objects each, from the test stream of `seed`."""
    stream = np.random.default_rng([seed, 7919])      # no training run draws from this stream
    return batch([s for k in range(1, scenes.MAX_OBJECTS + 1) for s in scenes.random_scenes(per_count, stream, k)])


def train_side_by_side(seed: int, settings: TrainSettings = SETTINGS, *, test: Batch | None = None,
                       evaluate_every: int = 50, curve: list[CurveRow] | None = None,
                       on_progress: Callable[[Progress], None] | None = None,
                       should_stop: Callable[[], bool] | None = None
                       ) -> tuple[dict[str, WordsToRegions], list[CurveRow], int]:
    """Both models from `seed`, stepped in turn on the same sentences (each ends as `train` would
    leave it from the same seed), each measured on `test` every `evaluate_every` steps and where
    training ends or is stopped. The rows go into `curve` (experiment = the variant) as they come,
    so a page can draw them while training runs. Returns the models, the rows and the steps done."""
    test = test or test_set(50)
    curve = [] if curve is None else curve
    models = {variant: new_model(RegionsConfig(variant), seed) for variant in ("attention", "one-vector")}
    steppers = {variant: stepper(model, seed, settings) for variant, model in models.items()}
    measured: set[int] = set()

    def evaluate(step: int) -> None:
        measured.add(step)
        for variant, model in models.items():
            curve.extend(CurveRow(variant, seed, step, r.objects, r.scene_accuracy, r.object_accuracy)
                         for r in measure(model, variant, seed, test))

    def report(progress: Progress) -> None:
        if progress.step % evaluate_every == 0 or progress.step == progress.total:
            evaluate(progress.step)
        if on_progress is not None:
            on_progress(progress)

    def step(_: int) -> dict[str, float]:
        losses = {f"loss {variant}": stepper() for variant, stepper in steppers.items()}
        return {"loss": sum(losses.values()), **losses}

    history = train_loop(step, settings.steps, on_progress=report, should_stop=should_stop,
                         report_every=min(10, evaluate_every))
    done = len(history)
    if done and done not in measured:
        evaluate(done)
    return {variant: model.eval() for variant, model in models.items()}, curve, done


def predict_labels(patches: torch.Tensor) -> torch.Tensor:
    """The nearest possible quadrant (mean squared error) to each drawn patch: (..., 4) indices."""
    flat = patches.reshape(*patches.shape[:-3], 1, -1)                  # (..., 4, 1, Q*Q*3)
    options = templates_tensor().flatten(1)                                  # (13, Q*Q*3)
    return ((flat - options) ** 2).mean(-1).argmin(-1)


@dataclass(frozen=True)
class QualityRow:
    variant: str
    seed: int
    objects: int              # objects per test sentence; 0 means every test sentence
    object_accuracy: float    # quadrants holding an object drawn right
    empty_accuracy: float     # empty quadrants left empty
    scene_accuracy: float     # all four quadrants right
    swapped: float            # object quadrants drawn as another object of the same sentence
    colour_wrong: float       # object quadrants with the right shape in a wrong colour
    shape_wrong: float        # ... the right colour, a wrong shape
    left_empty: float         # ... left empty
    pixel_mse: float
    seen_in_training: float   # test sentences that also came up in training


def _rows(variant: str, seed: int, data: Batch, predicted: torch.Tensor, mse: torch.Tensor,
          seen: set[str] | None) -> list[QualityRow]:
    truth, counts = data.labels, (data.labels > 0).sum(-1)
    right = predicted == truth
    objects = truth > 0
    others = [{scenes.template_index(t) for t in s.things} for s in data.scenes]
    swapped = torch.tensor([[bool(o) and not r and int(p) in other for o, r, p in zip(obj, rig, pred)]
                            for obj, rig, pred, other in zip(objects, right, predicted, others)])
    colour = (predicted - 1) // len(scenes.SHAPES) == (truth - 1) // len(scenes.SHAPES)
    shape = (predicted - 1) % len(scenes.SHAPES) == (truth - 1) % len(scenes.SHAPES)
    drawn = predicted > 0
    known = torch.tensor([seen is not None and scenes.sentence(s) in seen for s in data.scenes])
    rows = []
    for k in (0, *range(1, scenes.MAX_OBJECTS + 1)):
        chosen = counts > 0 if k == 0 else counts == k
        if not chosen.any():
            continue
        obj, empty = objects & chosen[:, None], ~objects & chosen[:, None]
        rows.append(QualityRow(
            variant, seed, k, float(right[obj].float().mean()),
            float(right[empty].float().mean()) if empty.any() else 1.0,
            float(right[chosen].all(-1).float().mean()), float(swapped[obj].float().mean()),
            float((drawn & shape & ~colour)[obj].float().mean()), float((drawn & colour & ~shape)[obj].float().mean()),
            float((~drawn)[obj].float().mean()),
            float(mse[chosen].mean()), float(known[chosen].float().mean())))
    return rows


@torch.no_grad()
def measure(model: WordsToRegions, variant: str, seed: int, data: Batch | None = None,
            seen: set[str] | None = None) -> list[QualityRow]:
    """Quality on the test set, for every test sentence (objects = 0) and per number of objects."""
    data = data or test_set()
    drawing = model(data.ids, data.lengths)
    patches = torch.sigmoid(drawing.logits)
    mse = ((patches - data.targets) ** 2).mean((-1, -2, -3, -4))
    return _rows(variant, seed, data, predict_labels(patches), mse, seen)


def phrase_spans(scene: scenes.Scene) -> dict[int, range]:
    """Which word positions name the object of each occupied quadrant: {quadrant: range}."""
    return {thing.quadrant: scenes.phrase_positions(i) for i, thing in enumerate(scene.things)}


@dataclass(frozen=True)
class CurveRow:
    experiment: str
    seed: int
    step: int
    objects: int              # 0 means every test sentence
    scene_accuracy: float
    object_accuracy: float


@dataclass(frozen=True)
class AttentionRow:
    experiment: str
    seed: int
    objects: int              # objects per test sentence; 0 means every test sentence
    own_phrase: float         # attention of a quadrant holding an object on that object's five words
    own_place: float          # ... on its place words (top/bottom, left/right)
    top_word_own: float       # quadrants whose most-attended word is in their own phrase
    empty_on_stop: float      # attention of an empty quadrant on the full stop (nan-free: 0 with no empty quadrant)


@torch.no_grad()
def measure_attention(model: WordsToRegions, experiment: str, seed: int,
                      data: Batch | None = None) -> list[AttentionRow]:
    """Where the quadrants look on the test set, for every sentence (objects = 0) and per number of objects."""
    data = data or test_set()
    weights = model(data.ids, data.lengths).attention                # (B, 4, N)
    looks: dict[int, tuple[list, list, list, list]] = {k: ([], [], [], []) for k in range(scenes.MAX_OBJECTS + 1)}
    for scene, w, length in zip(data.scenes, weights, data.lengths.tolist()):
        spans = phrase_spans(scene)
        for k in (0, len(scene.things)):
            own, place, top, stop = looks[k]
            for quadrant in range(scenes.MAX_OBJECTS):
                if quadrant in spans:
                    span = spans[quadrant]
                    own.append(float(w[quadrant, span.start:span.stop].sum()))
                    place.append(float(w[quadrant, span.stop - 2:span.stop].sum()))
                    top.append(int(w[quadrant].argmax()) in span)
                else:
                    stop.append(float(w[quadrant, length - 1]))
    return [AttentionRow(experiment, seed, k, float(np.mean(own)), float(np.mean(place)), float(np.mean(top)),
                         float(np.mean(stop)) if stop else 0.0)
            for k, (own, place, top, stop) in looks.items() if own]


def checkpoint_path(experiment: str, seed: int, folder: Path = checkpoints.MODELS_DIR, early: bool = False) -> Path:
    return Path(folder) / f"regions_{experiment}_s{seed}{f'_step{EARLY_STEP}' if early else ''}.pt"


def load_shipped(experiment: str, seed: int = 0, early: bool = False) -> WordsToRegions:
    """A shipped model (an EXPERIMENTS key: "attention", "one-vector", ...), CPU, eval mode; with
    `early`, the copy kept after EARLY_STEP steps of the same run."""
    if experiment not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {tuple(EXPERIMENTS)}")
    payload = checkpoints.load(checkpoint_path(experiment, seed, early=early))
    with rng.no_default_draws():
        model = WordsToRegions(RegionsConfig(**payload["config"]))
    model.load_state_dict(payload["state_dict"])
    return model.eval()


def read_quality(path: Path = QUALITY_CSV) -> tuple[QualityRow, ...]:
    return records.read_records(QualityRow, path)


def read_curves(path: Path = CURVES_CSV) -> tuple[CurveRow, ...]:
    return records.read_records(CurveRow, path)


def read_attention(path: Path = ATTENTION_CSV) -> tuple[AttentionRow, ...]:
    return records.read_records(AttentionRow, path)


def command(experiment: str, seed: int) -> str:
    return f"python -m seqviz.attention.regions_experiment --experiments {experiment} --seeds {seed}"


def run(experiment: str, seed: int, steps: int, out: Path) -> tuple[list[QualityRow], list[CurveRow],
                                                                     list[AttentionRow]]:
    """Train one experiment from one seed, measure it, write its checkpoint; its table rows."""
    config, settings = EXPERIMENTS[experiment]
    settings = replace(settings, steps=steps)
    seen: set[str] = set()
    curve: list[CurveRow] = []
    model = new_model(config, seed)

    def evaluate(progress: Progress) -> None:
        if progress.step % EVALUATE_EVERY == 0 or progress.step == progress.total:
            curve.extend(CurveRow(experiment, seed, progress.step, r.objects, r.scene_accuracy, r.object_accuracy)
                         for r in measure(model, experiment, seed))
        if progress.step == EARLY_STEP and settings.most_objects == scenes.MAX_OBJECTS:
            checkpoints.save(checkpoint_path(experiment, seed, out, early=True), model, config,
                             {"steps": EARLY_STEP}, {"command": command(experiment, seed), "steps": EARLY_STEP,
                                                     "note": "the same run, after EARLY_STEP steps"})

    start = time.perf_counter()
    model, history = train(model, seed, settings, seen=seen, report_every=EVALUATE_EVERY, on_progress=evaluate)
    seconds = time.perf_counter() - start
    rows = measure(model, experiment, seed, seen=seen)
    looks = measure_attention(model, experiment, seed) if config.variant == "attention" else []
    metrics = {"object_accuracy": rows[0].object_accuracy, "scene_accuracy": rows[0].scene_accuracy,
               "seconds": round(seconds, 1)}
    record = {"command": command(experiment, seed), "experiment": experiment, "seed": seed,
              "settings": dataclasses.asdict(settings), "metrics": metrics,
              "loss": [round(h["loss"], 5) for h in history]}
    checkpoints.save(checkpoint_path(experiment, seed, out), model, config, metrics, record)
    print(f"{experiment} s{seed}: " + " | ".join(
        f"{r.objects or 'all'} objects: objects {r.object_accuracy:.3f} scenes {r.scene_accuracy:.3f} "
        f"swapped {r.swapped:.3f}" for r in rows) + f" {seconds:.0f}s", flush=True)
    return rows, curve, looks


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the words-to-regions models and measure them.")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--experiments", nargs="+", choices=list(EXPERIMENTS), default=list(EXPERIMENTS))
    parser.add_argument("--steps", type=int, default=SETTINGS.steps)
    parser.add_argument("--out", type=Path, default=checkpoints.MODELS_DIR)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    quality, curves, looks = [], [], []
    for seed in args.seeds:
        for experiment in args.experiments:
            rows, curve, look = run(experiment, seed, args.steps, args.out)
            quality, curves, looks = quality + rows, curves + curve, looks + look
    order = list(EXPERIMENTS)
    records.merge_records(quality, QualityRow, args.out / QUALITY_CSV.name,
                          lambda r: (order.index(r.variant), r.seed, r.objects))
    records.merge_records(curves, CurveRow, args.out / CURVES_CSV.name,
                          lambda r: (order.index(r.experiment), r.seed, r.step, r.objects))
    records.merge_records(looks, AttentionRow, args.out / ATTENTION_CSV.name,
                          lambda r: (order.index(r.experiment), r.seed, r.objects))


if __name__ == "__main__":
    main()
