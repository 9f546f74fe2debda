"""The shipped captioners: how they are trained, measured on the test clips, and loaded.

Every variant trains on the same training clips (the "train" split of DATA_SEED) from each
seed of SEEDS, and is measured on the same test clips (the "test" split, never seen in
training) plus ORDER_PAIRS order pairs, after 25, 50, 75 and 100 % of each clip. The live
model is also measured under wait-k for every k from 1 to the clip length, and re-decoding.

    python -m seqviz.captioning.experiment --seeds 0 1 2

writes models/caption_<variant>_s<seed>.pt (+ .json), models/caption_seeds.csv (one row per
variant, seed and fraction seen) and models/caption_waitk.csv (one row per seed and policy).
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
import torch

from seqviz.captioning import inference, metrics
from seqviz.captioning.data import Clip, iter_clips, make_clips, make_order_pair
from seqviz.captioning.models import Captioner, CaptionerConfig, build, flow_tensor
from seqviz.captioning.train import TrainSettings, train, training_data
from seqviz.core import checkpoints, records, rng

__all__ = ["VARIANTS", "SHIPPED", "SEEDS", "SETTINGS", "FRACTIONS", "TestSet", "test_set", "QualityRow",
           "WaitKRow", "measure", "measure_wait_k", "train_variant", "checkpoint_path", "frames_path",
           "shipped_files", "load_checkpoint",
           "load_shipped", "read_quality", "read_wait_k", "command", "models_table", "main"]

VARIANTS = {
    "per-frame": CaptionerConfig(kind="per-frame"),
    "offline": CaptionerConfig(kind="offline", bidirectional=True, scoring="additive"),
    "offline-multiplicative": CaptionerConfig(kind="offline", bidirectional=True, scoring="multiplicative"),
    "offline-flow": CaptionerConfig(kind="offline", bidirectional=True, flow=True),
    "live": CaptionerConfig(kind="live"),
}
SHIPPED = {"per-frame": "per-frame", "offline": "offline", "live": "live"}      # load_shipped(kind) -> variant
SEEDS = (0, 1, 2)
SHARED = ("frames.conv.", "frames.appearance.", "frames.slots.")   # the seed's frame CNN, in frames_path
SETTINGS = TrainSettings()
DATA_SEED = 0
TEST_CLIPS = 400
ORDER_PAIRS = 50
FRACTIONS = (0.25, 0.5, 0.75, 1.0)
QUALITY_CSV = checkpoints.MODELS_DIR / "caption_seeds.csv"
WAIT_K_CSV = checkpoints.MODELS_DIR / "caption_waitk.csv"


@dataclass(frozen=True)
class TestSet:
    """The test clips: TEST_CLIPS clips of the test split, then ORDER_PAIRS order pairs (both
    clips of each pair, one after the other)."""

    clips: tuple[Clip, ...]

    @cached_property
    def frames(self) -> np.ndarray:
        return np.stack([clip.frames for clip in self.clips])

    @cached_property
    def references(self) -> list[str]:
        return [clip.caption for clip in self.clips]

    @cached_property
    def truths(self) -> list[tuple]:
        return [clip.events for clip in self.clips]


@lru_cache(maxsize=2)
def test_set(clips: int = TEST_CLIPS, pairs: int = ORDER_PAIRS, seed: int = DATA_SEED) -> TestSet:
    out = make_clips(clips, seed=seed, split="test")
    for index in range(pairs):
        out += make_order_pair(index, seed=seed, split="test")
    return TestSet(tuple(out))


@dataclass(frozen=True)
class QualityRow:
    variant: str
    seed: int
    fraction: float
    bleu4: float
    rouge_l: float
    cider: float
    order: float             # exact event order, every test clip
    order_multi: float       # clips with two or more events
    order_late: float        # clips whose only event starts in the last quarter
    order_pairs: float       # order pairs with both clips right
    guess_multi: float       # what guessing the order of the right events gives on the multi-event clips


@dataclass(frozen=True)
class WaitKRow:
    seed: int
    policy: str              # "wait-k" or "re-decode"
    k: int
    average_lagging: float   # frames, Ma et al. 2019
    bleu4: float
    rouge_l: float
    cider: float
    order: float
    order_multi: float


def _quality(predictions: list[str], tests: TestSet) -> dict[str, float]:
    scores = metrics.corpus_scores(predictions, tests.references, meteor=False)
    clips = tests.clips
    right = [metrics.order_correct(p, clip.events) for p, clip in zip(predictions, clips)]

    def share(select) -> float:
        chosen = [ok for ok, clip in zip(right, clips) if select(clip)]
        return float(np.mean(chosen)) if chosen else math.nan

    pairs: dict[int, list[bool]] = {}
    for ok, clip in zip(right, clips):
        if clip.pair is not None:
            pairs.setdefault(clip.pair, []).append(ok)
    multi = [clip.events for clip in clips if len(clip.events) >= 2]
    return {"bleu4": scores["BLEU-4"], "rouge_l": scores["ROUGE-L"], "cider": scores["CIDEr"],
            "order": float(np.mean(right)), "order_multi": share(lambda c: len(c.events) >= 2),
            "order_late": share(lambda c: c.late),
            "order_pairs": float(np.mean([all(v) for v in pairs.values()])) if pairs else math.nan,
            "guess_multi": metrics.guess_order_accuracy(multi) if multi else math.nan}


def measure(model: Captioner, variant: str, seed: int, tests: TestSet | None = None,
            fractions=FRACTIONS) -> list[QualityRow]:
    """Quality on the test clips after each fraction of every clip."""
    tests = tests or test_set()
    frames = tests.frames
    rows = []
    for fraction in fractions:
        predictions = [d.caption for d in inference.captions(model, frames, fraction=fraction)]
        rows.append(QualityRow(variant, seed, fraction, **_quality(predictions, tests)))
    return rows


def measure_wait_k(model: Captioner, seed: int, tests: TestSet | None = None, ks=None) -> list[WaitKRow]:
    """The live model's quality and Average Lagging under wait-k for each k (default 1..T), and
    under re-decoding at every frame (its lag taken from when each final word was last revised)."""
    tests = tests or test_set()
    frames = tests.frames
    total = frames.shape[1]
    rows = []
    for k in ks or range(1, total + 1):
        decoded = inference.captions(model, frames, wait_k=k)
        lags = [metrics.average_lagging(d.seen, total) for d in decoded if d.words]
        q = _quality([d.caption for d in decoded], tests)
        rows.append(WaitKRow(seed, "wait-k", k, float(np.mean(lags)), q["bleu4"], q["rouge_l"], q["cider"],
                             q["order"], q["order_multi"]))
    delays = [inference.final_delays(steps) for steps in inference.redecode_all(model, frames)]
    final = [d.caption for d in inference.captions(model, frames)]
    q = _quality(final, tests)
    lags = [metrics.average_lagging(d, total) for d in delays if d]
    rows.append(WaitKRow(seed, "re-decode", 1, float(np.mean(lags)), q["bleu4"], q["rouge_l"], q["cider"],
                         q["order"], q["order_multi"]))
    return rows


def checkpoint_path(variant: str, seed: int, directory: Path = checkpoints.MODELS_DIR) -> Path:
    return Path(directory) / f"caption_{variant}_s{seed}.pt"


@lru_cache(maxsize=1)
def _read_by_frame_cnn(seed: int, settings: TrainSettings):
    """The frame CNN of `seed` trained on single frames, and the training clips read through it.
    It is the same for every variant of a seed (the CNN's weights are drawn first, from the seed,
    whatever comes after it), so it is made once per seed."""
    model = build(VARIANTS["offline"], seed)
    data = training_data(model, settings)
    return {k: v for k, v in model.frames.state_dict().items() if not k.startswith("motion")}, data


@lru_cache(maxsize=1)
def _flow(settings: TrainSettings) -> torch.Tensor:
    clips = iter_clips(settings.train_clips, seed=settings.data_seed, split="train")
    return torch.cat([flow_tensor([clip.frames for clip in itertools.islice(clips, 500)])
                      for _ in range(0, settings.train_clips, 500)])


def train_variant(name: str, seed: int, settings: TrainSettings = SETTINGS, *, log=None):
    """Train one variant from one seed on the training clips (CPU); returns the model and its losses."""
    model = build(VARIANTS[name], seed)
    settings = replace(settings, seed=seed, data_seed=DATA_SEED)
    start = time.perf_counter()
    frames, data = _read_by_frame_cnn(seed, settings)
    model.frames.load_state_dict(frames, strict=False)
    for part in (model.frames.conv, model.frames.appearance, model.frames.slots):
        part.requires_grad_(False)
    data = replace(data, flow=_flow(settings) if model.config.flow else None)
    history = train(model, settings, data=data, report_every=250, on_progress=log and (
        lambda p: log(f"{name} s{seed} step {p.step} loss {p.metrics['loss']:.4f} "
                      f"words {p.metrics['word_accuracy']:.3f} {p.elapsed_s:.0f}s")))
    return model, history, time.perf_counter() - start


def frames_path(seed: int, directory: Path = checkpoints.MODELS_DIR) -> Path:
    """The frame CNN of a seed, shipped once: every variant of the seed reads frames through it."""
    return Path(directory) / f"caption_frames_s{seed}.pt"


def shipped_files(seed: int, directory: Path = checkpoints.MODELS_DIR) -> list[Path]:
    """Every file the shipped captioners of `seed` need."""
    return [frames_path(seed, directory)] + [checkpoint_path(name, seed, directory) for name in VARIANTS]


def load_checkpoint(name: str, seed: int = 0) -> checkpoints.Checkpoint:
    """A shipped captioner (its file and its seed's frame CNN): CPU, eval mode, with its metrics and record."""
    if name not in VARIANTS:
        raise ValueError(f"no shipped captioner {name!r}; choose one of {', '.join(VARIANTS)}")
    if seed not in SEEDS:
        raise ValueError(f"the shipped captioners were trained from seeds {SEEDS}, not {seed}")
    path = checkpoint_path(name, seed)
    payload, frames = checkpoints.load(path), checkpoints.load(frames_path(seed))
    with rng.no_default_draws():
        model = Captioner(CaptionerConfig(**payload["config"]))
    state = {**{f"frames.{key}": value for key, value in frames["state_dict"].items()}, **payload["state_dict"]}
    model.load_state_dict(state)                                    # strict: every weight from one of the two
    return checkpoints.Checkpoint(model.eval(), dict(payload["config"]), dict(payload.get("metrics", {})),
                                  checkpoints.load_record(path))


def load_shipped(kind: str, seed: int = 0) -> Captioner:
    """A shipped captioner: kind "per-frame", "offline" or "live" (or any VARIANTS key), on the
    CPU in eval mode."""
    return load_checkpoint(SHIPPED.get(kind, kind), seed).model


def read_quality(path: Path = QUALITY_CSV) -> list[QualityRow]:
    return list(records.read_records(QualityRow, path))


def read_wait_k(path: Path = WAIT_K_CSV) -> list[WaitKRow]:
    return list(records.read_records(WaitKRow, path))


def command(name: str, seed: int, steps: int = SETTINGS.steps) -> str:
    """The command that makes exactly the file of one variant and seed."""
    return (f"python -m seqviz.captioning.experiment --variants {name} --seeds {seed}"
            + (f" --steps {steps}" if steps != SETTINGS.steps else ""))


def _spread(values) -> str:
    values = [100 * v for v in values]
    return f"{np.mean(values):.1f} [{min(values):.1f}–{max(values):.1f}]"


def models_table(quality: list[QualityRow], wait_k: list[WaitKRow]) -> str:
    """MODELS.md's tables: exact event order on multi-event test clips (%) after each fraction
    of the clip, mean [lowest–highest] over the seeds, then the other metrics on whole clips,
    then the live model's wait-k points."""
    head = "| model | " + " | ".join(f"{f:.0%} seen" for f in FRACTIONS) + " |"
    lines = [head, "| --- |" + " --- |" * len(FRACTIONS)]
    for name in VARIANTS:
        if any(r.variant == name for r in quality):
            cells = [_spread([r.order_multi for r in quality if r.variant == name and r.fraction == f])
                     for f in FRACTIONS]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    guess = [r.guess_multi for r in quality if r.fraction == 1.0]
    lines += ["", f"Guessing the order of the right events: {100 * np.mean(guess):.1f}%.", "",
              "| model (whole clip) | BLEU-4 | ROUGE-L | CIDEr | order, all clips | late clips | order pairs |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for name in VARIANTS:
        rows = [r for r in quality if r.variant == name and r.fraction == 1.0]
        if rows:
            mean = {key: np.mean([getattr(r, key) for r in rows]) for key in ("bleu4", "rouge_l", "cider")}
            lines.append(f"| {name} | {mean['bleu4']:.3f} | {mean['rouge_l']:.3f} | {mean['cider']:.2f} | "
                         f"{_spread([r.order for r in rows])} | {_spread([r.order_late for r in rows])} | "
                         f"{_spread([r.order_pairs for r in rows])} |")
    lines += ["", "| live policy | Average Lagging (frames) | order, multi-event clips | BLEU-4 |",
              "| --- | --- | --- | --- |"]
    for policy, k in sorted({(r.policy, r.k) for r in wait_k}, key=lambda p: (p[0] != "wait-k", p[1])):
        rows = [r for r in wait_k if (r.policy, r.k) == (policy, k)]
        label = f"wait-{k}" if policy == "wait-k" else "re-decode at every frame"
        lines.append(f"| {label} | {np.mean([r.average_lagging for r in rows]):.2f} | "
                     f"{_spread([r.order_multi for r in rows])} | {np.mean([r.bleu4 for r in rows]):.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the shipped captioners and measure them on the test clips.")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--steps", type=int, default=SETTINGS.steps)
    parser.add_argument("--out", type=Path, default=checkpoints.MODELS_DIR)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    settings = replace(SETTINGS, steps=args.steps)
    quality, lagging = [], []
    for seed in args.seeds:                  # seeds outside: one frame CNN a seed serves every variant
        for name in args.variants:
            model, history, seconds = train_variant(name, seed, settings, log=lambda line: print(line, flush=True))
            rows = measure(model, name, seed)
            quality += rows
            if VARIANTS[name].kind == "live":
                lagging += measure_wait_k(model, seed)
            final = rows[-1]
            metrics_ = {"order_multi": final.order_multi, "order": final.order, "bleu4": final.bleu4,
                        "cider": final.cider, "seconds": round(seconds, 1)}
            record = {"command": command(name, seed, args.steps), "variant": name, "seed": seed, "metrics": metrics_,
                      "loss": [round(h["loss"], 5) for h in history]}
            checkpoints.save(checkpoint_path(name, seed, args.out), model, VARIANTS[name], metrics_, record,
                             leave_out=SHARED)
            checkpoints.save(frames_path(seed, args.out), model.frames, {"feature": model.config.feature},
                             leave_out=("motion",))
            print(" | ".join(f"{name} s{seed} {r.fraction:.0%}: order {r.order:.3f} multi {r.order_multi:.3f} "
                             f"late {r.order_late:.3f} pairs {r.order_pairs:.3f} BLEU-4 {r.bleu4:.3f}"
                             for r in rows) + f" {seconds:.0f}s", flush=True)
    order = list(VARIANTS)
    records.merge_records(quality, QualityRow, args.out / QUALITY_CSV.name,
                          lambda r: (order.index(r.variant), r.seed, r.fraction))
    if lagging:
        records.merge_records(lagging, WaitKRow, args.out / WAIT_K_CSV.name, lambda r: (r.seed, r.policy, r.k))


if __name__ == "__main__":
    main()
