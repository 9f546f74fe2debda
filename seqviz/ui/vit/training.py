"""Hyperparameters and live training of the student's own predictive ViT
(Dosovitskiy et al. 2020): the model lives in this session's state only."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import streamlit as st
import torch

from seqviz.core.train import Progress
from seqviz.plots import vit as plots
from seqviz.ui import params, present, sidebar
from seqviz.ui.charts import show_chart
from seqviz.ui.training import (
    Estimate,
    EstimatePart,
    TooLong,
    bounded_probe,
    current_job,
    format_duration,
    run_training,
)
from seqviz.ui.vit import page as vit_page
from seqviz.vit import experiment
from seqviz.vit import games as game_sets
from seqviz.vit import train as vit_train
from seqviz.vit import video as videos
from seqviz.vit.model import PredictiveViT, ViTConfig, build, flops_per_step, memory_estimate_bytes, parameter_count

BATCH = 16
TIMED_STEPS = 5          # after one warm-up step: their median is the step time of the estimate
_STEP_TIMES = "_vit_step_times"


def _step_key(config: ViTConfig, frames, device: torch.device) -> tuple:
    return (config, str(device), frames.shape)


def measured_step_seconds(config: ViTConfig, frames, device: torch.device) -> tuple[float, float]:
    """(seconds per training step, seconds of the set-up) of `config` on `device`, timed now on
    this machine: building the model and its step and a first step (the set-up, less one
    step), then the median of TIMED_STEPS steps (the page's own step, batch BATCH). Kept in
    this session per configuration and device, never shared between sessions."""
    store = st.session_state.setdefault(_STEP_TIMES, {})
    key = _step_key(config, frames, device)
    if key not in store:
        start = time.perf_counter()
        model = build(config, 0).to(device)
        settings = vit_train.TrainSettings(steps=TIMED_STEPS + 1, batch_size=BATCH)
        step = vit_train.make_step(model, videos.to_tensor(frames), settings, device)
        step(0)
        first = time.perf_counter() - start
        times = []
        for index in range(1, TIMED_STEPS + 1):
            start = time.perf_counter()
            step(index)                      # .item() of the loss waits for the device
            times.append(time.perf_counter() - start)
        median = float(np.median(times))
        store[key] = (median, max(0.0, first - median))
    return store[key]


def estimated_seconds(config: ViTConfig, steps: int, frames, device: torch.device) -> float | None:
    """The estimated time of `steps` steps, if this session has measured the step time."""
    found = st.session_state.get(_STEP_TIMES, {}).get(_step_key(config, frames, device))
    return None if found is None or isinstance(found, TooLong) else steps * found[0] + found[1]


def estimate(config: ViTConfig, steps: int, frames, device: torch.device) -> Estimate | TooLong | None:
    """The estimated time of a run of `steps`, from a step time measured now (not while a
    training of this session runs: it would slow both and skew the measure). A timing cut
    off at the server's probe limit is kept as a TooLong, and the run is refused."""
    job = current_job("vit_train")
    store = st.session_state.setdefault(_STEP_TIMES, {})
    key = _step_key(config, frames, device)
    if job is not None and job.running and key not in store:
        return None
    if key not in store:
        probed = bounded_probe(lambda: measured_step_seconds(config, frames, device))
        if isinstance(probed, TooLong):
            store[key] = probed
    if isinstance(store[key], TooLong):
        return store[key]
    seconds, setup = store[key]
    return Estimate((EstimatePart("", seconds, steps, TIMED_STEPS),
                     EstimatePart("set-up (building the model, its first step)", setup, 1, 1, unit="set-up")),
                    device.type)


SOURCES = ["this video", "the 64 training games"]
LOSSES = ["plain MSE", "change-weighted MSE"]


@st.cache_resource(show_spinner=False, max_entries=2)
def game_windows(frames: int):
    """Windows of the shipped models' 64 training games (shared by every session; read-only)."""
    return game_sets.training_windows(game_sets.make_games(game_sets.TRAIN_GAMES), frames)


def data_and_loss() -> tuple[str, float]:
    """What to train on and with which loss; returns (source, change weight)."""
    a, b = st.columns(2)
    source = params.choice("Train on", SOURCES, SOURCES[0], key="vit_train_on", container=a, horizontal=True,
                           help="this video: the exercise's set-up, one video (a model can memorise it); the "
                                "64 training games: the shipped models' data (textured background), so the "
                                "model can be tried on games it never saw (change the sidebar seed)")
    loss = params.choice("Loss", LOSSES, LOSSES[0], key="vit_loss", container=b, horizontal=True,
                         help=f"change-weighted: pixels that change from the last input frame weigh "
                              f"{1 + experiment.SETTINGS.change_weight:g}, the others 1, as for the shipped "
                              "models; with plain MSE the ball, about 1.5 % of the pixels, barely counts")
    return source, (experiment.SETTINGS.change_weight if loss == LOSSES[1] else 0.0)


def hyperparameters() -> tuple[ViTConfig, int]:
    """Widgets for the model and the number of steps; returns the config and steps."""
    a, b, c = st.columns(3)
    frames = params.slider("Input frames", 1, 8, 3, key="vit_frames", container=a)
    patch = params.log_select_slider("Patch size (pixels)", [2, 4, 8, 16], 4, key="vit_patch", container=a)
    width = params.log_select_slider("Width", [16, 32, 64, 128, 256], 64, key="vit_width", container=b)
    depth = params.slider("Layers", 1, 6, 2, key="vit_depth", container=b)
    heads = params.log_select_slider("Heads", [1, 2, 4, 8], 4, key="vit_heads", container=c)
    position = params.choice("Positional embedding", ["learned", "sinusoidal", "none"], "learned",
                             key="vit_pos", container=c, widget="selectbox",
                             help="learned: a trained vector per place and per frame; sinusoidal: fixed "
                                  "sin/cos of the row, column and frame; none: no positions at all")
    attention = params.toggle("Self-attention", True, key="vit_attn", container=a,
                              help="Off: a token-wise feed-forward layer takes its place (the ablation)")
    steps = params.log_select_slider("Training steps", [10, 30, 100, 300, 600, 1000, 2000, 3000], 600,
                                     key="vit_steps", container=b)
    tokens = params.choice("Tokens", ["per frame", "tube"], "per frame", key="vit_tokens", container=c,
                           widget="selectbox",
                           help="per frame: one token per patch of each input frame (the exercise's design); "
                                "tube: one token per patch holding its pixels in every input frame, so "
                                "switching self-attention off removes only the mixing between patches")
    config = ViTConfig(frames=frames, image_size=vit_page.VIDEO_SIZE, patch_size=patch, width=width,
                       depth=depth, heads=heads, use_attention=attention, pos_embedding=position,
                       token_kind="tube" if tokens == "tube" else "frame")
    m = c.columns(2)
    m[0].metric("Parameters", f"{parameter_count(config):,}")
    m[1].metric("FLOPs per step", f"{flops_per_step(config, BATCH) / 1e9:.2f} G",
                help=f"forward + backward ≈ 3 × forward, batch {BATCH}, {config.tokens} tokens")
    c.caption(f"{config.tokens:,} tokens; an estimated {memory_estimate_bytes(config, BATCH) / 2**20:,.0f} MiB "
              "to train (weights, optimiser state, activations)")
    return config, steps


def largest_config_budget(device: torch.device) -> str:
    """Whether the largest token count the sliders allow (8 frames, patch 2) may train here."""
    largest = ViTConfig(frames=8, image_size=vit_page.VIDEO_SIZE, patch_size=2)
    return vit_train.training_budget(largest, BATCH, device).message


def train_card(video: vit_page.Video, device: torch.device) -> None:
    """Train / Stop, live progress and loss curve; the result becomes this session's model.

    Not an st.fragment: in Streamlit 1.67 a click inside a running fragment is queued until
    that run ends. Training runs in this session's thread (seqviz.ui.training); the page's
    run watches it, and Stop sets its flag, so it ends inside the step it is in; the weights so
    far stay (the model is kept at every report). Before training, the estimated time of the
    run comes from a step time measured now (measured_step_seconds)."""
    config, steps = hyperparameters()
    source, change_weight = data_and_loss()
    budget = vit_train.training_budget(config, BATCH, device)
    if not budget.fits:
        st.warning(vit_page.plain(f"{budget.message}. Fewer frames or a larger patch, please; "
                                  "your last model is kept."), icon=":material/memory:")
        return
    if len(video.frames) <= config.frames:
        st.warning(f"The video has {len(video.frames)} frames; {config.frames} input frames need at "
                   f"least {config.frames + 1}. Your last model is kept.")
        return
    before = estimate(config, steps, video.frames, device)
    if device.type == "cuda" and steps >= 300:
        st.caption("On CUDA a run of 300 steps or more is compiled first; the estimate below does not count "
                   "the compilation.")
    own = vit_page.mine()
    if own is not None and own.notice:
        st.warning(vit_page.plain(own.notice), icon=":material/memory:")
    chart = st.empty()
    if own is not None:
        with chart.container():  # training redraws this slot; the finished curve has its downloads
            show_chart(plots.loss_curves({"your model": list(own.losses)}), key="vit_own_loss",
                       filename="your_model_loss")
        partial = (f", partial: stopped at step {len(own.losses):,} of {own.steps_asked:,}"
                   if len(own.losses) < own.steps_asked else "")
        st.caption(f"Your model (training run {own.version} in this session, on {own.trained_on}{partial}): "
                   f"{own.config.depth} layers, width {own.config.width}, {len(own.losses)} steps on {own.device} in "
                   f"{own.seconds:.1f} s, {own.seconds / max(1, len(own.losses)) * 1000:,.0f} ms per step "
                   "(measured while it trained" + (f"; estimated {format_duration(own.estimate_s)} for "
                                                   f"{own.steps_asked:,} steps before it started)."
                                                   if own.estimate_s else ")."))
    version = (own.version + 1) if own else 1

    def redraw(progress: Progress) -> None:
        if progress.step % 25 == 0 or progress.step == progress.total:
            chart.plotly_chart(present.figure(plots.loss_curves({"your model": [h["loss"] for h in progress.history]})))

    estimate_s = estimated_seconds(config, steps, video.frames, device)
    holder = vit_page.own_holder()        # taken here: the training thread calls no streamlit

    # everything the thread needs is read here, in the page's run: the thread calls no streamlit
    settings = vit_train.TrainSettings(steps=steps, batch_size=BATCH, seed=sidebar.seed(),
                                       compile=device.type == "cuda" and steps >= 300,
                                       change_weight=change_weight,
                                       warmup_steps=min(100, steps // 10) if change_weight else 0)
    data = game_windows(config.frames) if source == SOURCES[1] else video.frames

    def train(on_progress, should_stop):

        def keep(model: PredictiveViT, progress: Progress, device_name: str) -> None:
            vit_page.set_mine(vit_page.OwnModel(model, config, tuple(h["loss"] for h in progress.history),
                                                version, device_name, progress.elapsed_s,
                                                estimate_s=estimate_s, steps_asked=steps,
                                                trained_on=f"{source}, {LOSSES[bool(change_weight)]}"),
                              holder)

        return vit_train.train_keeping_last_good(config, data, settings, device, on_state=keep,
                                                 on_progress=on_progress, should_stop=should_stop)

    result = run_training("vit_train", train, label=f"Train on {source}", on_report=redraw,
                          estimate=before, live_curve=False, memory_bytes=memory_estimate_bytes(config, BATCH))
    if result is not None:
        if result.notice:
            vit_page.set_mine(dataclasses.replace(vit_page.mine(), notice=result.notice))
        vit_page.show_own_model()
        st.rerun(scope="app")
