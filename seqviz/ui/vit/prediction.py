"""The first two questions of the predictive ViT page (Dosovitskiy et al. 2020): how close
one predicted frame is to the truth (against copying the last frame), and what an
autoregressive rollout does to the error."""

from __future__ import annotations

import html

import numpy as np
import streamlit as st

from seqviz.plots import vit as plots
from seqviz.ui import cards, params
from seqviz.ui.charts import show_chart
from seqviz.ui.vit import cards as vit_cards
from seqviz.ui.vit import page as vit_page
from seqviz.vit import evaluate as vit_eval
from seqviz.vit.model import PredictiveViT

COPY = "copy last frame"    # the baseline's name, as its line is labelled in the quality chart


def frame_slider(container, video: vit_page.Video, frames_in: int) -> int:
    """The frame to predict, shared by the prediction, rollout, attention and ablation tabs."""
    low, high = frames_in, len(video.frames) - 1
    if high <= low:                       # frames_in + 1 frames: one frame to predict
        container.caption(f"Frame to predict: {low} (the only one: the video has {len(video.frames)} frames)")
        return low
    return params.slider("Frame to predict", low, high, low + 17, key="vit_t", container=container)


def repeats_notice(video: vit_page.Video, result: vit_eval.Evaluation) -> None:
    """What kept repeated frames do to the copy baseline, measured on this video."""
    if video.repeats is None:
        return
    repeated = video.repeats[result.times]                                    # (T-F,)
    if not repeated.any():
        return
    rest = ~repeated
    text = (f"{int(repeated.sum())} of the {len(repeated)} predicted frames repeat the frame before, so "
            f"copying the last frame is exact there: its PSNR on them is {result.copy_psnr[repeated].mean():.1f} dB "
            f"(99 dB stands for a perfect copy), against the model's {result.psnr[repeated].mean():.1f} dB.")
    if rest.any():
        text += (f" On the other {int(rest.sum())} frames copying scores {result.copy_psnr[rest].mean():.2f} dB "
                 f"and the model {result.psnr[rest].mean():.2f} dB. Turn on *Drop repeated frames* above "
                 "to compare them on real motion only.")
    st.warning(text, icon=":material/content_copy:")


def out_of_domain_notice(label: str, video: vit_page.Video, result: vit_eval.Evaluation) -> None:
    """A shipped model learned the synthetic game: on any other video it is out of its domain."""
    if label == vit_page.MINE or video.surprise is not None:
        return
    gain = result.mean_psnr - result.copy_mean_psnr
    st.info(f"Out of domain: the {label} model learned the synthetic game, never a video like this one. "
            f"Here it scores {result.mean_psnr:.2f} dB mean PSNR against {result.copy_mean_psnr:.2f} dB "
            f"for copying the last frame ({gain:+.2f} dB). Train your own on this video in the last tab.",
            icon=":material/travel_explore:")


def prediction_card(label: str, video: vit_page.Video, result: vit_eval.Evaluation, frames_in: int,
                    target: int) -> None:
    with cards.question_card(
        "How close is the prediction to the real next frame?",
        "The model sees the input frames on the left and predicts the frame after them. The |error| map "
        "is the absolute difference to the truth, averaged over colours. PSNR (peak signal-to-noise "
        "ratio, 10·log10(1/MSE)) rises by 10 dB when the squared error drops tenfold; SSIM compares "
        "local brightness, contrast and structure and is 1 for a perfect copy. The line named "
        f"*{COPY}* is the cheapest baseline: a model worth its training must beat it.",
    ):
        out_of_domain_notice(label, video, result)
        repeats_notice(video, result)
        frames = video.frames
        index = target - frames_in
        predicted, truth = result.predicted[index], frames[target] / 255.0
        panels = [(f"input t−{frames_in - i}", frames[target - frames_in + i]) for i in range(frames_in)][-4:]
        panels += [("truth", truth), ("prediction", predicted), ("|error|", np.abs(truth - predicted).mean(-1))]
        show_chart(plots.image_panels(panels, f"{label} model, frame {target}", height=260),
                   key="vit_panels", filename="vit_prediction")
        m = st.columns(4)
        m[0].metric("PSNR, this frame", f"{result.psnr[index]:.2f} dB",
                    delta=f"{result.psnr[index] - result.copy_psnr[index]:+.2f} dB vs copying")
        m[1].metric("SSIM, this frame", f"{result.ssim[index]:.3f}")
        m[2].metric("mean PSNR, whole video", f"{result.mean_psnr:.2f} dB",
                    delta=f"{result.mean_psnr - result.copy_mean_psnr:+.2f} dB vs copying")
        m[3].metric("mean SSIM, whole video", f"{result.mean_ssim:.3f}")
        curves, clip = st.columns([3, 2])
        with curves:
            show_chart(plots.metric_curves(result.times, {label: (result.psnr, result.ssim),
                                                          COPY: (result.copy_psnr, result.copy_ssim)},
                                           marker=target, baseline=COPY, height=380),
                       key="vit_metrics", filename="vit_psnr_ssim")
        with clip:
            show_chart(video_animation(video), key="vit_video", filename="vit_video")
        cards.show_code(vit_eval.evaluate, vit_eval.frame_metrics)


@st.cache_resource(max_entries=16, show_spinner=False)
def _animation(key: str, title: str, _frames: np.ndarray):
    """The animation of one video, built once per content (`key`, its hash) and title; the
    figure is only read afterwards (st.plotly_chart copies it)."""
    return plots.video_animation(_frames, title, height=380)


def video_animation(video: vit_page.Video):
    frames = video.frames
    return _animation(video.key, f"The video: {html.escape(video.label)}, {len(frames)} frames of "
                                 f"{frames.shape[1]}×{frames.shape[2]}", frames)


def rollout_card(label: str, model: PredictiveViT, video: vit_page.Video, target: int) -> None:
    with cards.question_card(
        "What happens when the model feeds on its own predictions?",
        "An autoregressive rollout: the predicted frame is appended to the input window and the oldest "
        "frame dropped, again and again. Errors become inputs, so they can compound: a ball that blurs "
        "or lags in one prediction starts the next one from the wrong place, and an item that appears "
        "cannot show up (nothing in the past announces it). Compare the PSNR of each step below the "
        "figure with the one-step PSNR of the first tab.",
        expanded=True,
    ):
        steps = params.slider("Rollout length k", 1, 16, 8, key="vit_k")
        k = min(steps, len(video.frames) - target)
        rolled = vit_page.cached_rollout(label, model, video, target, steps)
        vit_cards.rollout_panels(rolled, video.frames, target, k)
        cards.show_code(vit_eval.rollout)
