"""The Memory tasks page's pieces: training the chosen models one after another (in the
session's training job), and saying where every curve on the page comes from."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from seqviz.core import timing
from seqviz.core.train import NonFiniteLoss, Progress
from seqviz.plots.recurrent import MODEL_NAMES
from seqviz.recurrent import results, seeds, tasks
from seqviz.recurrent import train as memory_train
from seqviz.recurrent.tcn import KERNEL, tcn_depth
from seqviz.ui.training import Estimate, EstimatePart

SHIPPED = memory_train.MemoryConfig()
PROBE_STEPS = 4          # steps of each model timed before a run: 1 warm-up, 2 plain, the last with validation


def estimate(configs: Sequence[memory_train.MemoryConfig], device: torch.device) -> Estimate:
    """The time of training `configs`, from PROBE_STEPS steps of each timed now on `device`
    (the same model, batch, length and task): the median step after a warm-up, and the
    validation's time (the probe's last step validates: its extra time over the median)."""
    parts, evaluations, evaluation_s = [], 0, 0.0
    for config in configs:
        probe = dataclasses.replace(config, steps=PROBE_STEPS, eval_every=PROBE_STEPS)
        step = timing.per_reported_step(
            lambda report, probe=probe: memory_train.train_memory_model(probe, device, on_progress=report))
        validation = max(0.0, step.samples[-1] - step.median)
        count = -(-config.steps // config.eval_every)
        parts.append(EstimatePart(MODEL_NAMES[config.kind], step.median, config.steps, len(step.samples)))
        evaluations, evaluation_s = evaluations + count, evaluation_s + validation * count
    if evaluations:
        parts.append(EstimatePart("validation", evaluation_s / evaluations, evaluations, len(configs),
                                  unit="evaluation"))
    return Estimate(tuple(parts), device.type)


def train_models(configs: Sequence[memory_train.MemoryConfig], device: torch.device,
                 store: dict[tuple[str, str], results.MemoryRun]
                 ) -> Callable[[Callable[[Progress], None], Callable[[], bool]], tuple[str, ...]]:
    """The job for seqviz.ui.training.run_training: train `configs` one after another.

    Each model's MemoryRun goes into `store` as soon as it ends (finished, stopped or
    failed), so the curves so far stay. Returns the kinds that were trained."""
    steps = sum(c.steps for c in configs)

    def train(on_progress: Callable[[Progress], None], should_stop: Callable[[], bool]) -> tuple[str, ...]:
        done, trained = 0, []
        for config in configs:
            if should_stop():
                break
            last: dict = {"step": 0, "metrics": {}}

            def report(p: Progress, offset: int = done, last: dict = last) -> None:
                last.update(step=p.step, metrics=p.metrics)
                on_progress(Progress(offset + p.step, steps, p.metrics, p.elapsed_s))

            # built here, not inside train_memory_model, so a failed run still has its model
            model = memory_train.build_model(config.kind, config.hidden, config.length, seed=config.seed)
            error = None
            try:
                model, history = memory_train.train_memory_model(
                    config, device, model=model, on_progress=report, should_stop=should_stop)
            except NonFiniteLoss as failure:
                history, error = getattr(failure, "history", []), str(failure)
            if error is None and last["step"] > (history[-1]["step"] if history else 0):
                history = [*history, evaluate_now(model, config, last["step"], last["metrics"])]
            store[(config.task, config.kind)] = results.MemoryRun(
                config, results.cpu_copy(model),
                results.history_from_rows(history), last["step"], error)
            trained.append(config.kind)
            done += config.steps
        return tuple(trained)

    return train


def evaluate_now(model: nn.Module, config: memory_train.MemoryConfig, step: int,
                 metrics: dict[str, float]) -> dict[str, float]:
    """A history row for a run stopped between evaluations: the validation set now, the
    training batch of its last step, so its curve ends where it stopped. Computed on the fused
    twin, as during training: one validation pass, which the server's step limit keeps short."""
    device = next(model.parameters()).device
    x, y = tasks.memory_task(memory_train.VAL_SIZE, config.length, seed=config.seed,
                             generalize=config.generalize, split="val")
    val = memory_train.evaluate_fused(model, x.to(device), y.to(device))
    return {"step": step, "train_loss": metrics.get("loss", float("nan")),
            "train_accuracy": metrics.get("accuracy", float("nan")),
            "val_loss": val["loss"], "val_accuracy": val["accuracy"]}


@dataclass(frozen=True)
class CurveSource:
    """Where the curve of one model on the page comes from."""

    kind: str
    label: str                                  # "this session", "shipped, seed 0", "not trained"
    history: tuple[results.EvalPoint, ...]
    model: nn.Module | None
    status: str                                 # "400 steps", "stopped at step 51 of 400", ...


def curve_sources(kinds: Sequence[str], configs: dict[str, memory_train.MemoryConfig],
                  store: dict[tuple[str, str], results.MemoryRun],
                  shipped: Callable[[str, str], nn.Module]) -> tuple[CurveSource, ...]:
    """For every chosen model: this session's run with exactly these settings, else the
    shipped checkpoint when the settings are the shipped ones, else nothing."""
    sources = []
    for kind in kinds:
        config = configs[kind]
        run = store.get((config.task, kind))
        shipped_settings = (config.length, config.hidden, config.steps, config.lr) == (
            SHIPPED.length, SHIPPED.hidden, SHIPPED.steps, SHIPPED.lr) and kind in memory_train.SHIPPED_KINDS
        if run is not None and run.config == config:
            label = "this session, partial" if run.stopped or run.error else "this session"
            sources.append(CurveSource(kind, label, run.history, run.model, run.status))
        elif shipped_settings:
            sources.append(CurveSource(kind, f"shipped, seed {SHIPPED.seed}",
                                       results.shipped_history(config.task, kind),
                                       shipped(config.task, kind), f"{SHIPPED.steps} steps"))
        else:
            sources.append(CurveSource(kind, "not trained", (), None, "press Train"))
    return tuple(sources)


def sources_table(sources: Sequence[CurveSource]) -> pd.DataFrame:
    """Which models ran, where each curve comes from, and its last validation accuracy."""
    return pd.DataFrame([{
        "model": MODEL_NAMES[s.kind], "curve from": s.label, "training": s.status,
        "last validation accuracy": f"{s.history[-1].val_accuracy:.1%}" if s.history else "–"}
        for s in sources])


def _cell(spread: seeds.Spread, percent: bool = True) -> str:
    fmt = (lambda v: f"{v:.0%}") if percent else (lambda v: f"{v:.2f}")
    return f"{fmt(spread.mean)} ± {fmt(spread.std)}  [{fmt(spread.minimum)}–{fmt(spread.maximum)}]"


def seeds_table(runs: Sequence[seeds.SeedRun], shipped_seed: int = SHIPPED.seed) -> pd.DataFrame:
    """Mean ± standard deviation [min–max] over seeds per (task, model), beside the shipped draw."""
    rows = []
    for summary in seeds.summarise(runs):
        shipped = next((r for r in runs if (r.task, r.kind, r.seed) ==
                        (summary.task, summary.kind, shipped_seed)), None)
        rows.append({
            "task": summary.task, "model": MODEL_NAMES[summary.kind], "seeds": len(summary.seeds),
            "fits training (token where trained)": _cell(summary["fit_accuracy"]),
            "validation accuracy": _cell(summary["val_accuracy"]),
            f"shipped checkpoint (seed {shipped_seed})": "–" if shipped is None else f"{shipped.val_accuracy:.1%}"})
    return pd.DataFrame(rows)


def describe(configs: Sequence[memory_train.MemoryConfig]) -> Callable[[Progress], str]:
    """Progress text naming the model being trained, its own step and the overall one."""
    def text(p: Progress) -> str:
        start = 0
        for config in configs:
            if p.step <= start + config.steps:
                return (f"{MODEL_NAMES[config.kind]}: step {p.step - start:,} of {config.steps:,} · "
                        f"overall {p.step:,} of {p.total:,} · loss {p.metrics.get('loss', float('nan')):.3f}"
                        f" · {p.elapsed_s:.1f} s")
            start += config.steps
        return f"step {p.step:,} of {p.total:,}"
    return text


def tcn_windows(length: int) -> tuple[int, tuple[int, ...], tuple[int, ...], int]:
    """(top-layer window size, windows of memorygen's training positions, of its
    validation positions, padded length) for the stride-3 TCN at this length."""
    depth = tcn_depth(length)
    window = KERNEL ** (depth - 1)
    train_low, train_high = tasks.token_positions(length, True, "train")
    val_low, val_high = tasks.token_positions(length, True, "val")
    windows = lambda low, high: tuple(sorted({p // window for p in range(low, high)}))
    return window, windows(train_low, train_high), windows(val_low, val_high), KERNEL ** depth


def seed_findings(runs: Sequence[seeds.SeedRun]) -> str:
    """What the multi-seed numbers say about each model on memorygen, every claim computed."""
    n = len({r.seed for r in runs})
    spread = lambda task, kind, metric: seeds.spread_of(runs, task, kind, metric)
    pct = lambda v: f"{v:.0%}"
    tcn, tcn_fit = spread("memorygen", "tcn", "val_accuracy"), spread("memorygen", "tcn", "fit_accuracy")
    window, train_windows, val_windows, _ = tcn_windows(SHIPPED.length)
    lines = [
        f"**TCN:** fits the training split ({pct(tcn_fit.mean)} on average) and on the unseen "
        f"positions scores anywhere from {pct(tcn.minimum)} to {pct(tcn.maximum)} depending on the seed "
        f"(mean {pct(tcn.mean)}; chance is 33%). With kernel = stride = 3 each weight is tied to a place "
        f"inside its window, so a token at position p goes through the weights that the base-3 digits of p "
        f"pick out. At length {SHIPPED.length} the top layer's windows are {window} steps wide: training "
        f"tokens sit only in window {', '.join(str(w + 1) for w in train_windows)}, validation tokens in "
        f"windows {', '.join(str(w + 1) for w in val_windows)}, whose weights never saw a token. What they "
        f"map an unseen token to is whatever initialisation left there: an arbitrary mapping, confidently "
        f"wrong for some seeds and near chance for others."]
    mem_first = spread("memory", "rnn-tanh", "first_half_accuracy")
    low, high = tasks.token_positions(SHIPPED.length, True, "train")
    near, far = SHIPPED.length - high, SHIPPED.length - 1 - low        # steps from token to request
    gen_fit, gen_val = spread("memorygen", "rnn-tanh", "fit_accuracy"), spread("memorygen", "rnn-tanh", "val_accuracy")
    fitted = [r for r in seeds.select(runs, "memorygen", "rnn-tanh") if r.fit_accuracy >= 0.99]
    reach = ("so gaps that long are within its reach" if mem_first.minimum >= 0.9 else
             "so gaps that long are not reliably within its reach either")
    tanh = (f"**Tanh RNN:** trained on *memory* it answers tokens {near}–{far} steps back (first-half accuracy "
            f"{pct(mem_first.mean)}, lowest {pct(mem_first.minimum)} over {n} seeds), {reach}. On "
            f"*memorygen*, where every training gap is that long, it fits the training split in "
            f"{len(fitted)} of {n} seeds (training-split accuracy {pct(gen_fit.mean)} ± {pct(gen_fit.std)}) "
            f"and validation is {pct(gen_val.mean)} ± {pct(gen_val.std)}.")
    if mem_first.minimum >= 0.9:
        tanh += (f" Its failure there is not that the gradient cannot reach back {far} steps: with no short "
                 "gaps to learn from first, 400 steps rarely find the solution")
        tanh += (f", and the {len(fitted)} runs that fitted still score "
                 f"{', '.join(pct(r.val_accuracy) for r in fitted)} on the short gaps." if fitted else ".")
    lines.append(tanh)
    gru, lstm = spread("memorygen", "gru", "val_accuracy"), spread("memorygen", "lstm", "val_accuracy")
    verdict = ("not the luck of one draw" if gru.minimum >= 0.6 else "not reliable: it depends on the seed")
    lines.append(f"**GRU:** {pct(gru.mean)} ± {pct(gru.std)} on validation, at least {pct(gru.minimum)} in "
                 f"each of the {n} seeds: its generalisation is {verdict}. **LSTM:** {pct(lstm.mean)} ± "
                 f"{pct(lstm.std)} ({pct(lstm.minimum)}–{pct(lstm.maximum)}): both apply the same weights at "
                 "every step, so a rule learned for long gaps *can* carry over to short ones; the GRU's "
                 "usually does, the LSTM's only partly.")
    return "\n\n".join(lines)
