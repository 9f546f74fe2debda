"""Predicting the next frame with a Vision Transformer (Dosovitskiy et al. 2020)."""

import html

import numpy as np
import streamlit as st

from seqviz.plots import vit as plots
from seqviz.ui import cards, params, registry, sidebar
from seqviz.ui.charts import show_chart
from seqviz.ui.vit import cards as vit_cards
from seqviz.ui.vit import page as vit_page
from seqviz.ui.vit import training as vit_training
from seqviz.vit import evaluate as vit_eval

registry.ensure_router()

st.title("Predicting the next frame with a Vision Transformer")
st.markdown(
    "Give a transformer the last few frames of a video and ask for the next one. Each frame is cut "
    "into small square patches; every patch of every input frame becomes a token that knows where "
    "(row, column) and when (which frame) it is; a few encoder layers let the tokens exchange "
    "information; a linear head turns the tokens of the last frame into the *change* to the next "
    "frame. Everything below is computed live by real models, trained on the video you choose.")
device = sidebar.device_for("batched")
model_column, video_column = st.columns([1, 2])
label, model, curve = vit_page.pick_model(model_column)
config = model.config
with video_column:
    video = vit_page.pick_video(min_frames=config.frames + 1)
if len(video.frames) <= config.frames:
    st.warning(f"The {label} model reads {config.frames} frames; this video has {len(video.frames)}. "
               "Showing the synthetic game instead.")
    video = vit_page.game_video(sidebar.seed(), True, "synthetic game")
frames = video.frames
show_chart(plots.video_animation(frames, f"The video: {html.escape(video.label)}, {len(frames)} frames "
                                         f"of {frames.shape[1]}×{frames.shape[2]}"),
           key="vit_video", filename="vit_video")
if label != vit_page.MINE and video.surprise is None:
    st.info("The shipped models learned the synthetic game, not this video: compare their PSNR with "
            "copying the last frame below, or train your own on this video at the bottom of the page.")
result = vit_page.analysis(label, model, video)
times = result.times

with cards.question_card(
    "How close is the prediction to the real next frame?",
    "The model sees the input frames on the left and predicts the frame after them. The |error| map "
    "is the absolute difference to the truth, averaged over colours. PSNR (peak signal-to-noise "
    "ratio, 10·log10(1/MSE)) rises by 10 dB when the squared error drops tenfold; SSIM compares "
    "local brightness, contrast and structure and is 1 for a perfect copy. The grey line is the "
    "cheapest baseline, *copy the last frame*: a model worth its training must beat it.",
    expanded=True,
):
    target = params.slider("Frame to predict", int(times[0]), int(times[-1]),
                           int(times[0]) + 17, key="vit_t")
    index = target - config.frames
    predicted, truth = result.predicted[index], frames[target] / 255.0
    panels = [(f"input t−{config.frames - i}", frames[target - config.frames + i])
              for i in range(config.frames)][-4:]
    panels += [("truth", truth), ("prediction", predicted), ("|error|", np.abs(truth - predicted).mean(-1))]
    show_chart(plots.image_panels(panels, f"{label} model, frame {target}"), key="vit_panels",
               filename="vit_prediction")
    m = st.columns(4)
    m[0].metric("PSNR, this frame", f"{result.psnr[index]:.2f} dB",
                delta=f"{result.psnr[index] - result.copy_psnr[index]:+.2f} dB vs copying")
    m[1].metric("SSIM, this frame", f"{result.ssim[index]:.3f}")
    m[2].metric("mean PSNR, whole video", f"{result.mean_psnr:.2f} dB",
                delta=f"{result.mean_psnr - result.copy_mean_psnr:+.2f} dB vs copying")
    m[3].metric("mean SSIM, whole video", f"{result.mean_ssim:.3f}")
    show_chart(plots.metric_curves(times, {label: (result.psnr, result.ssim),
                                           "copy last frame": (result.copy_psnr, result.copy_ssim)},
                                   marker=target, baseline="copy last frame"),
               key="vit_metrics", filename="vit_psnr_ssim")
    cards.show_code(vit_eval.evaluate, vit_eval.frame_metrics)

with cards.question_card(
    "What happens when the model feeds on its own predictions?",
    "An autoregressive rollout: the predicted frame is appended to the input window and the oldest "
    "frame dropped, again and again. Errors become inputs, so they can compound: a ball that blurs "
    "or lags in one prediction starts the next one from the wrong place, and an item that appears "
    "cannot show up (nothing in the past announces it). Compare the PSNR of each step below the "
    "figure with the one-step PSNR above.",
):
    steps = params.slider("Rollout length k", 1, 16, 8, key="vit_k")
    k = min(steps, len(frames) - target)
    rolled = vit_page.cached_rollout(label, model, video, target, steps)
    vit_cards.rollout_panels(rolled, frames, target, k)
    cards.show_code(vit_eval.rollout)

vit_cards.failure_card(video, result, config.frames)
vit_cards.attention_card(label, model, video, target)
vit_cards.ablation_card(target)

with cards.question_card(
    "Train your own: how do frames, patch size, width, depth and heads change the model?",
    "Every token is one patch of one input frame, so there are frames × (32 / patch)² tokens and "
    "self-attention compares each with each: its memory grows with the square of that number. "
    "Training a configuration is refused when its estimate exceeds what one job may use on this "
    "device; for the largest (8 frames, patch 2) that check says now: "
    f"{vit_page.plain(vit_training.largest_config_budget(device))}. Width and layers set the "
    "parameter count. Training uses AdamW on random windows of the video above, MSE loss, and bf16 "
    "autocast with torch.compile on a GPU; the time your run took is measured and shown under its "
    "loss curve.",
    expanded=True,
):
    vit_training.train_card(video, device)

st.caption(f"Training runs on {device.type.upper()}; each model predicts on the device it is on "
           "(the shipped ones on the CPU). Shipped models: see models/MODELS.md.")
