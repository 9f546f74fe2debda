"""Training RNN, LSTM, GRU and TCN on the memory tasks, and the shipped checkpoints.

The recurrent models are many-to-many: before the request they should answer
class 0 ("nothing asked yet") and at the request the token, so y_t has a meaning at
every step (used by the hidden-state page). The TCN answers once, at the end.
Loss and accuracy reported everywhere are those of the final answer, comparable
across models. The loop is seqviz.core.train.train_loop (progress callback, stop flag,
NonFiniteLoss), with Adam and gradient-norm clipping; the steps run on torch's fused
layers holding the from-scratch model's weights (seqviz.recurrent.fused), which are
copied back into the model. Weights and batches are drawn from generators seeded by
MemoryConfig.seed (seqviz.core.rng), never from torch's global generator.

Reproduce the shipped checkpoints (models/MODELS.md; on one CPU thread, rebuilding gives
byte-identical files):

    python -m seqviz.recurrent.train --seed 0
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from seqviz.core import checkpoints, rng, timing, train
from seqviz.recurrent import cells as rnn
from seqviz.recurrent import fused, tasks
from seqviz.recurrent.tcn import KERNEL, TCN, tcn_depth

__all__ = ["MemoryConfig", "MODEL_KINDS", "build_model", "evaluate", "train_memory_model",
           "training_memory_bytes", "checkpoint_path", "load_shipped",
           "HISTORY_FILE", "SWEEP_FILE"]

MODEL_KINDS = ("rnn-tanh", "rnn-relu", "lstm", "gru", "tcn")
SHIPPED_KINDS = ("rnn-tanh", "lstm", "gru", "tcn")
HISTORY_FILE = checkpoints.MODELS_DIR / "memory_histories.json"
SWEEP_FILE = checkpoints.MODELS_DIR / "capacity_sweep.csv"
VAL_SIZE = 512


@dataclass(frozen=True)
class MemoryConfig:
    """One training run; hashable, so it keys caches and session state."""

    task: str = "memory"
    kind: str = "lstm"
    length: int = 20
    hidden: int = 32
    steps: int = 400
    lr: float = 0.01
    batch: int = 64
    seed: int = 0
    clip: float = 1.0
    eval_every: int = 25

    @property
    def generalize(self) -> bool:
        return self.task == "memorygen"


def build_model(kind: str, hidden: int, length: int, *, seed: int = 0) -> nn.Module:
    """A fresh model of `kind` (the TCN needs the length to set its depth), its weights
    drawn from a generator seeded with `seed` (torch's default distributions)."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; choose from {MODEL_KINDS}")
    with torch.device("meta"):  # shapes only: nothing is drawn until init_parameters
        if kind in ("rnn-tanh", "rnn-relu"):
            model = rnn.RNN(hidden, nonlinearity=kind.split("-")[1])
        elif kind == "lstm":
            model = rnn.LSTM(hidden)
        elif kind == "gru":
            model = rnn.GRU(hidden)
        else:
            model = TCN(hidden, length)
    return rng.init_parameters(model.to_empty(device="cpu"), rng.torch_generator(seed))


# float32 numbers kept per sequence step and hidden unit by a training step of the fused twin
# (activations, gate workspaces, gradients, the validation pass), fitted to the peak memory
# measured over training steps at 9 sizes per model (length 160-1000, hidden 64-512; see
# tests/unit/test_memory_estimates.py, which checks them within 1.5x of a measured peak).
# The TCN counts the steps of its padded input, 3^depth.
FLOATS_PER_STEP_AND_UNIT = {"rnn-tanh": 27, "rnn-relu": 27, "gru": 49, "lstm": 20, "tcn": 8.7}


def training_memory_bytes(kind: str, batch: int, length: int, hidden: int) -> int:
    """The memory one training step takes at its peak, above the process before it: mostly the
    activations autograd keeps (weights and optimiser state are small beside them)."""
    steps = KERNEL ** tcn_depth(length) if kind == "tcn" else length
    return int(batch * steps * hidden * FLOATS_PER_STEP_AND_UNIT[kind] * 4)


def _losses(model: nn.Module, x: torch.Tensor, y: torch.Tensor
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(total loss to optimise, final-answer loss, final-answer accuracy)."""
    logits = model(x).outputs                                           # (B, T or 1, C)
    final = F.cross_entropy(logits[:, -1], y)
    total = final
    if logits.shape[1] > 1:  # recurrent: "nothing asked yet" (class 0) before the request
        earlier = logits[:, :-1].reshape(-1, logits.shape[-1])          # (B*(T-1), C)
        total = final + F.cross_entropy(earlier, torch.zeros(len(earlier), dtype=torch.long,
                                                             device=x.device))
    accuracy = (logits[:, -1].argmax(-1) == y).float().mean()
    return total, final, accuracy


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Final-answer loss and accuracy on a fixed set."""
    was_training = model.training
    model.eval()
    _, final, accuracy = _losses(model, x, y)
    model.train(was_training)
    return {"loss": float(final), "accuracy": float(accuracy)}


@torch.no_grad()
def _evaluate_final(twin: fused.FusedRecurrent | fused.FusedTCN, x: torch.Tensor, y: torch.Tensor
                    ) -> dict[str, float]:
    """What `evaluate` gives, from the fused twin's final answers alone (no readout of the
    earlier steps: their loss is not reported)."""
    twin.eval()
    logits = twin.final_logits(x)                                       # (B, C)
    twin.train()
    return {"loss": float(F.cross_entropy(logits, y)), "accuracy": float((logits.argmax(-1) == y).float().mean())}


def evaluate_fused(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """`evaluate`'s final-answer loss and accuracy, computed on the model's fused twin: the same
    function in fused kernels, many times faster than the step-by-step cells on long sequences."""
    return _evaluate_final(fused.fused_twin(model), x, y)


@torch.no_grad()
def _copy(targets: list[torch.Tensor], sources: list[torch.Tensor]) -> None:
    for target, source in zip(targets, sources):
        target.copy_(source)


def train_memory_model(config: MemoryConfig, device: str | torch.device = "cpu", *,
                       model: nn.Module | None = None,
                       on_progress: Callable[[train.Progress], None] | None = None,
                       should_stop: Callable[[], bool] | None = None,
                       ) -> tuple[nn.Module, list[dict[str, float]]]:
    """Train (or continue training) a model; returns it and its evaluation history.

    The weights come from `config.seed` (unless `model` is given) and so do the batches.
    The steps run on the model's fused twin (seqviz.recurrent.fused: torch's nn.RNN /
    nn.LSTM / nn.GRU, or F.conv1d for the TCN, holding a copy of the same weights), which
    computes the same function in fused kernels; the trained weights are copied back into
    the from-scratch model, which is returned (also when training stops early or fails).
    On the CPU the steps run on the single-threaded loop thread (cells.run_sequential:
    steps this small lose to intra-op threads): all of them in one go without callbacks,
    one at a time when there are, so that `on_progress` and `should_stop` are called in
    the calling thread, before and after every step as before.
    History rows: step, train_loss, train_accuracy (running batch), val_loss, val_accuracy.
    On NonFiniteLoss the weights are restored to those before the bad step and the
    error is raised again (its `history` attribute holds the rows so far).
    """
    device = torch.device(device)
    if model is None:
        model = build_model(config.kind, config.hidden, config.length, seed=config.seed)
    model = model.to(device).train()
    twin = fused.fused_twin(model).train()
    parameters = [p for p in twin.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(parameters, lr=config.lr)
    val_x, val_y = (t.to(device) for t in tasks.memory_task(
        VAL_SIZE, config.length, seed=config.seed, generalize=config.generalize, split="val"))
    history: list[dict[str, float]] = []
    good = [p.detach().clone() for p in parameters]  # the weights before the latest step

    def one_step(i: int) -> dict[str, float]:
        x, y = (t.to(device) for t in tasks.memory_task(
            config.batch, config.length, seed=config.seed * 100_003 + i + 1,
            generalize=config.generalize, split="train"))
        with train.autocast(device):
            total, final, accuracy = _losses(twin, x, y)
        if not torch.isfinite(total):
            return {"loss": float(total.detach())}
        _copy(good, parameters)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        if config.clip > 0:
            nn.utils.clip_grad_norm_(parameters, config.clip)
        optimizer.step()
        metrics = {"loss": float(final.detach()), "accuracy": float(accuracy)}
        if (i + 1) % config.eval_every == 0 or i + 1 == config.steps:
            val = _evaluate_final(twin, val_x, val_y)
            history.append({"step": i + 1, "train_loss": metrics["loss"],
                            "train_accuracy": metrics["accuracy"],
                            "val_loss": val["loss"], "val_accuracy": val["accuracy"]})
            metrics.update({"val_loss": val["loss"], "val_accuracy": val["accuracy"]})
        return metrics

    def step(i: int) -> dict[str, float]:
        return rnn.run_sequential(lambda: one_step(i), device)

    try:
        if on_progress is None and should_stop is None:
            rnn.run_sequential(lambda: train.train_loop(one_step, config.steps), device)
        else:
            train.train_loop(step, config.steps, on_progress=on_progress, should_stop=should_stop)
    except train.NonFiniteLoss as error:
        _copy(parameters, good)
        error.history = history
        raise
    finally:
        twin.copy_to(model)
    return model.eval(), history


def checkpoint_path(task: str, kind: str) -> Path:
    return checkpoints.MODELS_DIR / f"memory_{task}_{kind}.pt"


def load_shipped(task: str, kind: str) -> tuple[nn.Module, MemoryConfig, dict[str, float]]:
    """The shipped checkpoint for (task, kind): model in eval mode, its config and metrics."""
    payload = checkpoints.load(checkpoint_path(task, kind))
    config = MemoryConfig(**payload["config"])
    model = build_model(config.kind, config.hidden, config.length)
    model.load_state_dict(payload["state_dict"])
    return model.eval(), config, payload["metrics"]


def _ship(seed: int) -> None:
    histories: dict[str, dict[str, list]] = {}
    for task in tasks.TASKS:
        for kind in SHIPPED_KINDS:
            config = MemoryConfig(task=task, kind=kind, seed=seed)
            trained: list[tuple[nn.Module, list[dict[str, float]]]] = []
            took = timing.measure(lambda: trained.append(train_memory_model(config)), repeats=1, warmup=0)
            model, history = trained[0]
            metrics = {k: history[-1][k] for k in ("train_accuracy", "val_loss", "val_accuracy")}
            checkpoints.save(checkpoint_path(task, kind), model, config, metrics)  # no time: same bytes
            histories.setdefault(task, {})[kind] = history                       # on every rebuild
            print(f"{task:9s} {kind:8s} val_accuracy {metrics['val_accuracy']:.3f} "
                  f"val_loss {metrics['val_loss']:.3f} ({took.median:.1f} s)", flush=True)
    HISTORY_FILE.write_text(json.dumps({"config": dataclasses.asdict(MemoryConfig(seed=seed)),
                                        "histories": histories}, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)  # as the shipped files were made: bit-for-bit reproducible
    _ship(args.seed)


if __name__ == "__main__":
    main()
