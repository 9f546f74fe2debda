"""How much a fixed-size hidden state holds: recall-k against hidden size.

h_t has H numbers. In recall-k (seqviz.recurrent.tasks.recall_task) the network sees
k tokens from {1, 2, 3}, k log2(3) bits, and must give them back in order after the
request, so at the request all k must be in h_t at once. Training a recurrent model
for a fixed budget at several k and H, over several seeds, shows how many tokens a
state of each size ends up holding: accuracy (every token right, and per token)
falls as k grows, and the fall comes later for larger H.

`bits_recalled` sums, over the k answer steps, the mutual information between the
true token and the model's answer, estimated from their joint counts on the
validation set: k log2(3) bits for perfect recall, 0 for guessing. Where it stops
growing with k, the state (as training used it) is full.

Reproduce models/capacity_recall.csv and models/capacity_sweep.csv (models/MODELS.md):

    python -m seqviz.recurrent.capacity --seeds 0 1 2
    python -m seqviz.recurrent.capacity --trainability --seeds 0 1 2

The older sweep, accuracy on the one-token memory task against sequence length
(`length_sweep`, models/capacity_sweep.csv), measures trainability, how far back
training reaches, not how much the state holds.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from seqviz.core import checkpoints, records, train
from seqviz.recurrent import cells as rnn
from seqviz.recurrent import tasks
from seqviz.recurrent import train as memory_train
from seqviz.recurrent.seeds import Spread

__all__ = ["RecallConfig", "RecallScore", "CapacityRow", "CapacitySummary", "build_recall_model",
           "score_recall", "train_recall", "capacity_sweep", "summarise", "write_csv", "read_csv",
           "length_sweep", "LengthRow", "RECALL_FILE", "SWEEP_FILE", "SWEEP_KINDS", "SWEEP_HIDDENS",
           "SWEEP_KS", "bits_recalled", "CapacityLimit", "capacity_limits"]

RECALL_FILE = checkpoints.MODELS_DIR / "capacity_recall.csv"
SWEEP_FILE = checkpoints.MODELS_DIR / "capacity_sweep.csv"
SWEEP_KINDS = ("gru",)
SWEEP_HIDDENS = (2, 4, 8, 16, 32)
SWEEP_KS = (1, 2, 3, 4, 6, 8, 12)
VAL_SIZE = 1024


@dataclass(frozen=True)
class RecallConfig:
    """One recall-k training run; hashable. `delay` None puts the request right after the tokens."""

    kind: str = "gru"
    hidden: int = 8
    k: int = 4
    delay: int | None = None
    steps: int = 1000
    lr: float = 0.01
    batch: int = 64
    seed: int = 0
    clip: float = 1.0

    @property
    def request_step(self) -> int:
        return self.k if self.delay is None else self.delay

    @property
    def length(self) -> int:
        return tasks.recall_length(self.k, self.request_step)


@dataclass(frozen=True)
class RecallScore:
    """How well a model recalls the k tokens on a held-out set."""

    token_accuracy: float      # fraction of single answers right (chance 1/3)
    sequence_accuracy: float   # fraction of sequences with all k right (chance 3^-k)
    bits_recalled: float       # sum over answers of I(token; answer), at most k log2 3
    loss: float                # cross-entropy of the answers


@dataclass(frozen=True)
class CapacityRow:
    """One point of the sweep: (kind, hidden, k, seed) and its score."""

    kind: str
    hidden: int
    k: int
    seed: int
    steps: int
    token_accuracy: float
    sequence_accuracy: float
    bits_recalled: float
    train_seconds: float


@dataclass(frozen=True)
class CapacitySummary:
    """One (kind, hidden, k) over its seeds."""

    kind: str
    hidden: int
    k: int
    token_accuracy: Spread
    sequence_accuracy: Spread
    bits_recalled: Spread


def build_recall_model(config: RecallConfig) -> nn.Module:
    """A recurrent model of the config's kind, its weights drawn from the config's seed."""
    if config.kind not in rnn.RECURRENT_KINDS:
        raise ValueError(f"recall-k needs an output at every step: one of {rnn.RECURRENT_KINDS}")
    return memory_train.build_model(config.kind, config.hidden, config.length, seed=config.seed)


def _losses(model: nn.Module, batch: tasks.RecallBatch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(loss to optimise, answer loss, answers (n, k)); before the request the target is class 0."""
    logits = model(batch.x).outputs                                     # (n, T, C)
    answers = logits[:, batch.answer_steps]                             # (n, k, C)
    answer_loss = F.cross_entropy(answers.reshape(-1, answers.shape[-1]), batch.tokens.reshape(-1))
    before = logits[:, :batch.delay]                                    # (n, delay, C)
    waiting = F.cross_entropy(before.reshape(-1, before.shape[-1]),
                              batch.targets[:, :batch.delay].reshape(-1))
    return answer_loss + waiting, answer_loss, answers.argmax(-1)


def bits_recalled(tokens: np.ndarray, answers: np.ndarray) -> float:
    """Sum over answer steps of the mutual information (bits) between token and answer.

    tokens, answers: (n, k) integers. Estimated from the joint counts (plug-in)."""
    tokens, answers = np.asarray(tokens), np.asarray(answers)
    total = 0.0
    for j in range(tokens.shape[1]):
        joint = np.zeros((int(tokens.max()) + 1, int(answers.max()) + 1))
        np.add.at(joint, (tokens[:, j], answers[:, j]), 1)
        joint /= joint.sum()
        outer = joint.sum(1, keepdims=True) * joint.sum(0, keepdims=True)
        mask = joint > 0
        total += float((joint[mask] * np.log2(joint[mask] / outer[mask])).sum())
    return total


@torch.no_grad()
def score_recall(model: nn.Module, config: RecallConfig, *, n: int = VAL_SIZE, device: str = "cpu"
                 ) -> RecallScore:
    """Score on `n` validation sequences drawn from the config's seed (its own stream)."""
    batch = tasks.recall_task(n, config.k, seed=config.seed, delay=config.request_step, split="val")
    was_training = model.training
    model.eval()
    with rnn.sequential_compute(device):
        batch_on = dataclasses.replace(batch, x=batch.x.to(device), targets=batch.targets.to(device),
                                       tokens=batch.tokens.to(device))
        _, loss, answers = _losses(model, batch_on)
    model.train(was_training)
    right = answers.cpu() == batch.tokens                               # (n, k)
    return RecallScore(float(right.float().mean()), float(right.all(dim=1).float().mean()),
                       bits_recalled(batch.tokens.numpy(), answers.cpu().numpy()), float(loss))


def train_recall(config: RecallConfig, device: str | torch.device = "cpu", *,
                 on_progress: Callable[[train.Progress], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> tuple[nn.Module, RecallScore]:
    """Train a fresh model on recall-k (Adam, gradient-norm clipping); returns it and its score.

    Batches are drawn from the seed, one stream per step. Raises NonFiniteLoss."""
    device = torch.device(device)
    model = build_recall_model(config).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)

    def step(i: int) -> dict[str, float]:
        batch = tasks.recall_task(config.batch, config.k, seed=config.seed * 100_003 + i + 1,
                                  delay=config.request_step)
        batch = dataclasses.replace(batch, x=batch.x.to(device), targets=batch.targets.to(device),
                                    tokens=batch.tokens.to(device))
        total, answer_loss, answers = _losses(model, batch)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        if config.clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimizer.step()
        return {"loss": float(answer_loss.detach()),
                "accuracy": float((answers == batch.tokens).float().mean())}

    with rnn.sequential_compute(device):
        train.train_loop(step, config.steps, on_progress=on_progress, should_stop=should_stop,
                         report_every=max(1, config.steps // 50))
    return model.eval(), score_recall(model, config, device=str(device))


def capacity_sweep(kinds: Sequence[str] = SWEEP_KINDS, hiddens: Sequence[int] = SWEEP_HIDDENS,
                   ks: Sequence[int] = SWEEP_KS, seeds: Sequence[int] = (0, 1, 2), *,
                   base: RecallConfig = RecallConfig(), device: str = "cpu",
                   on_run: Callable[[CapacityRow], None] | None = None) -> tuple[CapacityRow, ...]:
    """Train and score recall-k for every (kind, hidden, k, seed)."""
    rows = []
    for kind in kinds:
        for hidden in hiddens:
            for k in ks:
                for seed in seeds:
                    config = dataclasses.replace(base, kind=kind, hidden=hidden, k=k, seed=seed)
                    start = time.perf_counter()
                    _, result = train_recall(config, device)
                    row = CapacityRow(kind, hidden, k, seed, config.steps,
                                      round(result.token_accuracy, 5), round(result.sequence_accuracy, 5),
                                      round(result.bits_recalled, 4), round(time.perf_counter() - start, 2))
                    rows.append(row)
                    if on_run is not None:
                        on_run(row)
    return tuple(rows)


def summarise(rows: Iterable[CapacityRow]) -> tuple[CapacitySummary, ...]:
    """Mean and spread over seeds of every (kind, hidden, k), sorted."""
    groups: dict[tuple[str, int, int], list[CapacityRow]] = {}
    for row in rows:
        groups.setdefault((row.kind, row.hidden, row.k), []).append(row)
    return tuple(
        CapacitySummary(kind, hidden, k, *(Spread.of([getattr(r, m) for r in group])
                                           for m in ("token_accuracy", "sequence_accuracy", "bits_recalled")))
        for (kind, hidden, k), group in sorted(groups.items()))


@dataclass(frozen=True)
class CapacityLimit:
    """What one hidden size holds, read off the sweep (means over seeds)."""

    kind: str
    hidden: int
    reliable_k: int          # the largest k with all k right in >= `reliable` of sequences (0: none)
    peak_bits: float         # the most bits recalled at any k
    peak_k: int              # ... and at which k
    last_k: int              # the largest k swept
    bits_at_last_k: float


def capacity_limits(summaries: Iterable[CapacitySummary], reliable: float = 0.9) -> tuple[CapacityLimit, ...]:
    """Per (kind, hidden): the largest k recalled reliably and the peak bits recalled."""
    groups: dict[tuple[str, int], list[CapacitySummary]] = {}
    for summary in summaries:
        groups.setdefault((summary.kind, summary.hidden), []).append(summary)
    limits = []
    for (kind, hidden), rows in sorted(groups.items()):
        rows.sort(key=lambda r: r.k)
        good = [r.k for r in rows if r.sequence_accuracy.mean >= reliable]
        peak = max(rows, key=lambda r: r.bits_recalled.mean)
        limits.append(CapacityLimit(kind, hidden, max(good, default=0), peak.bits_recalled.mean, peak.k,
                                    rows[-1].k, rows[-1].bits_recalled.mean))
    return tuple(limits)


def write_csv(rows: Iterable[CapacityRow], path: str | Path = RECALL_FILE) -> Path:
    """One CSV row per CapacityRow, columns in field order."""
    return records.write_records(rows, CapacityRow, path)


def read_csv(path: str | Path = RECALL_FILE) -> tuple[CapacityRow, ...]:
    """The rows written by `write_csv`; ValueError when a row is malformed."""
    return records.read_records(CapacityRow, path)


@dataclass(frozen=True)
class LengthRow:
    """Trainability: one-token memory task accuracy at one (kind, hidden, length, seed)."""

    kind: str
    hidden: int
    length: int
    seed: int
    val_accuracy: float


def length_sweep(kind: str, hiddens: Sequence[int], lengths: Sequence[int], *, steps: int,
                 seeds: Sequence[int], device: str = "cpu",
                 on_run: Callable[[LengthRow], None] | None = None) -> tuple[LengthRow, ...]:
    """Validation accuracy on the memory task for every (hidden, length, seed).

    One token, log2(3) bits, whatever the length: what changes is how far back the
    training signal must reach, so this measures trainability, not capacity."""
    rows = []
    for hidden in hiddens:
        for length in lengths:
            for seed in seeds:
                config = memory_train.MemoryConfig(kind=kind, hidden=hidden, length=length, steps=steps,
                                                   seed=seed, eval_every=steps)
                _, history = memory_train.train_memory_model(config, device)
                row = LengthRow(kind, hidden, length, seed, round(history[-1]["val_accuracy"], 4))
                rows.append(row)
                if on_run is not None:
                    on_run(row)
    return tuple(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--hiddens", type=int, nargs="+", default=list(SWEEP_HIDDENS))
    parser.add_argument("--ks", type=int, nargs="+", default=list(SWEEP_KS))
    parser.add_argument("--kinds", nargs="+", default=list(SWEEP_KINDS))
    parser.add_argument("--steps", type=int, default=RecallConfig().steps)
    parser.add_argument("--out", type=Path, default=None, help=f"default {RECALL_FILE.name}, or "
                        f"{SWEEP_FILE.name} with --trainability")
    parser.add_argument("--trainability", action="store_true",
                        help="instead: the one-token memory task against sequence length (trainability)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    if args.trainability:
        _trainability(args.seeds, args.out or SWEEP_FILE)
        return
    rows = capacity_sweep(args.kinds, args.hiddens, args.ks, args.seeds,
                          base=RecallConfig(steps=args.steps), on_run=lambda r: print(
                              f"{r.kind} H={r.hidden:3d} k={r.k:2d} seed {r.seed}: tokens {r.token_accuracy:.3f} "
                              f"all {r.sequence_accuracy:.3f} bits {r.bits_recalled:.2f} "
                              f"({r.train_seconds:.1f} s)", flush=True))
    write_csv(rows, args.out or RECALL_FILE)
    print(f"wrote {args.out or RECALL_FILE} ({len(rows)} runs, {time.perf_counter() - start:.0f} s)")


def _trainability(seeds: Sequence[int], out: Path) -> None:
    start = time.perf_counter()
    rows: list[LengthRow] = []
    for kind in ("rnn-tanh", "lstm"):
        rows += length_sweep(kind, (2, 4, 8, 32), (5, 10, 20, 40, 80), steps=400, seeds=seeds,
                             on_run=lambda r: print(r, flush=True))
    records.write_records(rows, LengthRow, out)
    print(f"wrote {out} ({len(rows)} runs, {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
