"""The Gradients page's pieces: one gradient profile and one spectrum per model, each
cached on exactly the arguments that model uses, so a widget change recomputes only the
models it affects, under a spinner that names them."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import torch

from seqviz.core import timing
from seqviz.plots import recurrent as plots
from seqviz.plots.recurrent import MODEL_NAMES
from seqviz.recurrent import capacity, gradients, spectrum
from seqviz.recurrent import train as memory_train
from seqviz.ui import params, sidebar
from seqviz.ui.recurrent.models import shipped_model
from seqviz.ui.training import Estimate, EstimatePart, run_training, session_estimate

SHIPPED = memory_train.MemoryConfig()
TCN_TRAINED_REACH = 27   # the shipped TCN has 3 layers: it sees at most 3^3 steps


@dataclass(frozen=True)
class ProfileRequest:
    """One model's gradient profile, with only the arguments that model uses (the cache key)."""

    kind: str
    length: int
    hidden: int
    rho: float
    seed: int
    forget_bias: float | None
    trained: bool

    @property
    def what(self) -> str:
        weights = "shipped weights" if self.trained else f"hidden {self.hidden}"
        return f"{MODEL_NAMES[self.kind]} ({weights})"


def requests(weights: str, length: int, hidden: int, rho: float, forget_bias: float, seed: int
             ) -> tuple[dict[str, ProfileRequest], list[str]]:
    """The request per model and notes on models that cannot use trained weights."""
    out, notes = {}, []
    for kind in gradients.GRADIENT_KINDS:
        trained = weights == "trained" and kind != "rnn-relu" and (kind != "tcn" or length <= TCN_TRAINED_REACH)
        if weights == "trained" and not trained:
            notes.append(f"{MODEL_NAMES[kind]}: fresh weights (" + (
                "no shipped ReLU RNN" if kind == "rnn-relu" else
                f"the shipped TCN has 3 layers and sees at most {TCN_TRAINED_REACH} steps") + ")")
        if trained:
            out[kind] = ProfileRequest(kind, length, SHIPPED.hidden, 1.0, seed, None, True)
        else:
            out[kind] = ProfileRequest(kind, length, hidden, 1.0 if kind == "tcn" else rho, seed,
                                       forget_bias if kind == "lstm" else None, False)
    return out, notes


@st.cache_data(show_spinner=False, max_entries=256)
def _profile(request: ProfileRequest, device: str) -> gradients.GradientProfile:
    model = shipped_model("memory", request.kind) if request.trained else None
    return gradients.gradient_profile(request.kind, request.length, request.hidden, rho=request.rho,
                                      seed=request.seed, device=device, model=model,
                                      forget_bias=request.forget_bias)


def profiles(requested: dict[str, ProfileRequest]) -> dict[str, gradients.GradientProfile]:
    """Every model's profile; a cache miss runs under a spinner naming the model and length."""
    out = {}
    for kind, request in requested.items():
        with st.spinner(f"Backpropagating through {request.length:,} steps: {request.what}…"):
            out[kind] = sidebar.run_on_device(lambda dev, r=request: _profile(r, str(dev)), "sequential")
    return out


@st.cache_data(show_spinner=False, max_entries=256)
def _spectrum(kind: str, hidden: int, rho: float, seed: int, trained: bool) -> spectrum.Spectrum:
    if trained:
        return spectrum.spectrum(shipped_model("memory", kind).recurrent_matrix())
    return spectrum.spectrum(spectrum.fresh_recurrent_matrix(kind, hidden, rho, seed))


def spectra(requested: dict[str, ProfileRequest]) -> dict[str, spectrum.Spectrum]:
    """W_hh's eigenvalues and singular values per recurrent model (the TCN has none); the
    sequence length plays no part, so moving it recomputes none of them."""
    return {kind: _spectrum(r.kind, r.hidden, r.rho, r.seed, r.trained)
            for kind, r in requested.items() if kind != "tcn"}


def capacity_findings(rows: Sequence[capacity.CapacityRow],
                      summaries: Sequence[capacity.CapacitySummary]) -> str:
    """What the shipped recall-k sweep shows, every number read from it."""
    limits = capacity.capacity_limits(summaries)
    seeds = sorted({r.seed for r in rows})
    steps = sorted({r.steps for r in rows})
    parts = [f"H = {lim.hidden}: all k right up to k = {lim.reliable_k}, at most {lim.peak_bits:.1f} bits "
             f"recalled (at k = {lim.peak_k})" if lim.reliable_k else
             f"H = {lim.hidden}: not even k = 1 reliably, at most {lim.peak_bits:.1f} bits (at k = {lim.peak_k})"
             for lim in limits]
    text = (f"The shipped sweep (`python -m seqviz.recurrent.capacity`) trains a GRU for "
            f"{', '.join(map(str, steps))} steps at every H and k, {len(seeds)} seeds each. Read off it "
            f"(\"all k right\" means in at least 90% of sequences, on the seeds' mean): " + "; ".join(parts) + ". ")
    growing = all(a.reliable_k <= b.reliable_k and a.peak_bits <= b.peak_bits + 0.05
                  for a, b in zip(limits, limits[1:]))
    text += ("The larger the state, the more tokens it holds: the drop comes later and the bits recalled "
             "level off higher. " if growing else
             "The limit does not grow steadily with H here; see the spread between seeds. ")
    fallen = [lim for lim in limits if lim.bits_at_last_k < lim.peak_bits - 0.5]
    if fallen:
        text += ("Past its limit a state does not keep its peak: at k = "
                 f"{fallen[0].last_k} " + ", ".join(f"H = {lim.hidden} recalls {lim.bits_at_last_k:.1f} bits"
                                                   for lim in fallen)
                 + ", less than at their peaks: an overloaded network does not settle, within this training "
                   "budget, for remembering only some of the tokens. ")
    return text + ("These curves show what training makes of a state of each size; the information a "
                   "vector of H floats could carry in principle is far larger.")


_LIVE = "_seqviz_recall_live"
PROBE_STEPS = 4          # steps timed before a run (the first a warm-up), then one scoring
PROBE_SCORED = 128       # sequences scored to time the scoring (scaled to capacity.VAL_SIZE)


def recall_estimate(config: capacity.RecallConfig, device: torch.device) -> Estimate:
    """The time of training `config`: PROBE_STEPS steps of the same model and batch timed now on
    `device` (median step after a warm-up), plus one scoring of PROBE_SCORED sequences timed now
    (after a first, untimed one), scaled to the validation set."""
    probe = dataclasses.replace(config, steps=PROBE_STEPS)
    trained = []
    step = timing.per_reported_step(
        lambda report: trained.append(capacity.train_recall(probe, device, on_progress=report)[0]))
    scoring = timing.measure(lambda: capacity.score_recall(trained[0], config, n=PROBE_SCORED, device=str(device)),
                             repeats=1, warmup=1)
    scale = capacity.VAL_SIZE / PROBE_SCORED
    return Estimate((EstimatePart("", step.median, config.steps, len(step.samples)),
                     EstimatePart(f"scoring (timed on {PROBE_SCORED} sequences, × {scale:g})",
                                  scoring.median * scale, 1, 1, unit="evaluation")), device.type)


def live_recall_point(summaries: Sequence[capacity.CapacitySummary], device: torch.device, seed: int) -> None:
    """Train one (H, k) point of the sweep now, with the sidebar's seed, and put it beside the curve.

    Not a fragment, so that Stop (a full rerun) interrupts the watching and reaches the job."""
    st.markdown("**Train one point yourself** (a GRU, the sweep's settings, the sidebar's seed):")
    a, b = st.columns(2)
    hidden = params.log_select_slider("Hidden size H", list(capacity.SWEEP_HIDDENS), 8, key="cap_hid",
                                      container=a)
    k = params.log_select_slider("k tokens to recall", list(capacity.SWEEP_KS), 4, key="cap_k", container=b)
    config = capacity.RecallConfig(hidden=hidden, k=k, seed=seed)

    def train(on_progress, should_stop):
        start, reached = time.perf_counter(), [0]

        def report(progress):
            reached[0] = progress.step
            on_progress(progress)

        _, score = capacity.train_recall(config, device, on_progress=report, should_stop=should_stop)
        return config, score, time.perf_counter() - start, reached[0]

    estimate = session_estimate("cap_train", (config, str(device)), lambda: recall_estimate(config, device))
    done = run_training("cap_train", train, label=f"Train H = {hidden}, k = {k} ({config.steps:,} steps)",
                        estimate=estimate)
    store = st.session_state.setdefault(_LIVE, {})
    if done is not None:
        trained_config, score, seconds, steps_done = done
        store[trained_config] = (score, seconds, steps_done)
    shipped = next((s for s in summaries if (s.kind, s.hidden, s.k) == (config.kind, hidden, k)), None)
    cols = st.columns(3)
    if shipped is not None:
        cols[0].metric("Shipped sweep: all k right (mean)", f"{shipped.sequence_accuracy.mean:.0%}",
                       help=f"over {shipped.sequence_accuracy.n} seeds, "
                            f"{shipped.sequence_accuracy.minimum:.0%}–{shipped.sequence_accuracy.maximum:.0%}")
    if config in store:
        score, seconds, steps_done = store[config]
        mine = ("Your run" if steps_done >= config.steps else
                f"Your partial run (stopped at step {steps_done:,} of {config.steps:,})")
        cols[1].metric(f"{mine}: all k right", f"{score.sequence_accuracy:.0%}",
                       help=f"tokens right: {score.token_accuracy:.0%}; {score.bits_recalled:.2f} bits")
        cols[2].metric(f"{mine}: bits recalled", f"{score.bits_recalled:.2f} of {k * math.log2(3):.2f}",
                       help=f"trained in {seconds:.1f} s (measured)")


@st.cache_resource(show_spinner=False, max_entries=64)
def _eigen_figure(keys: tuple[tuple[str, int, float, int, bool], ...]) -> go.Figure:
    return plots.eigenvalue_plot({key[0]: _spectrum(*key) for key in keys})


def eigen_figure(requested: dict[str, ProfileRequest]) -> go.Figure:
    """The eigenvalue panels, built once per set of matrices (shared, never modified)."""
    return _eigen_figure(tuple((r.kind, r.hidden, r.rho, r.seed, r.trained)
                               for kind, r in requested.items() if kind != "tcn"))


@st.cache_resource(show_spinner=False)
def shipped_figures() -> tuple[go.Figure, go.Figure]:
    """The recall-k capacity figure and the trainability figure, from the shipped CSVs
    (built once per server; shared, never modified)."""
    recall = plots.recall_capacity(capacity.summarise(capacity.read_csv(capacity.RECALL_FILE)),
                                   "Recall-k: GRU, mean over seeds (bars: lowest–highest)")
    sweep = plots.capacity_curves(pd.read_csv(capacity.SWEEP_FILE),
                                  "Memory task, 400 training steps: accuracy against length")
    return recall, sweep
