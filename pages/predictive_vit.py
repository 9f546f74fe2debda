"""Predicting the next frame with a Vision Transformer (Dosovitskiy et al. 2020).

One tab per question; only the open tab runs (st.tabs with its state bound to the URL),
so a rerun computes what is on screen and a lecturer can link straight to a tab."""

import streamlit as st

from seqviz.ui import cards, presets, registry, sidebar
from seqviz.ui.vit import ablations as vit_ablations
from seqviz.ui.vit import cards as vit_cards
from seqviz.ui.vit import page as vit_page
from seqviz.ui.vit import prediction
from seqviz.ui.vit import training as vit_training

registry.ensure_router()

TABS = ["Prediction", "Rollout", "Where it fails", "Attention", "Ablations", "Train your own"]

st.title("Predicting the next frame with a Vision Transformer")
presets.picker(__file__)
st.markdown(
    "Give a transformer the last few frames of a video and ask for the next one. Each frame is cut "
    "into small square patches; every patch of every input frame becomes a token that knows where "
    "(row, column) and when (which frame) it is; a few encoder layers let the tokens exchange "
    "information; a linear head turns the tokens of the last frame into the *change* to the next "
    "frame. Everything below is computed live by real models. The shipped variants trained on 64 short "
    "games (three training seeds each) and are tested on games they never saw; one more memorised a "
    "single long game, as in the original exercise; you can train your own in the last tab.")
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
target = prediction.frame_slider(model_column, video, config.frames)
if video.ball is not None:
    seen = vit_page.training_game_notice(label, sidebar.seed())
    model_column.caption(("Note: " + seen + ".") if seen else
                         "This game is not one the model trained on: what it gets right here, it learned as a rule.")

tabs = dict(zip(TABS, st.tabs(TABS, key="vit_tab", bind="query-params")))
if tabs["Prediction"].open:
    with tabs["Prediction"]:
        prediction.prediction_card(label, video, vit_page.analysis(label, model, video), config.frames, target)
if tabs["Rollout"].open:
    with tabs["Rollout"]:
        prediction.rollout_card(label, model, video, target)
if tabs["Where it fails"].open:
    with tabs["Where it fails"]:
        vit_cards.failure_card(video, vit_page.analysis(label, model, video), config.frames)
if tabs["Attention"].open:
    with tabs["Attention"]:
        vit_cards.attention_card(label, model, video, target)
if tabs["Ablations"].open:
    with tabs["Ablations"]:
        vit_ablations.ablation_card()
if tabs["Train your own"].open:
    with tabs["Train your own"]:
        with cards.question_card(
            "Train your own: how do frames, patch size, width, depth and heads change the model?",
            "Every token is one patch of one input frame, so there are "
            r"$\text{frames} \times (32 / \text{patch})^2$ tokens and "
            "self-attention compares each with each: its memory grows with the square of that number. "
            "Training a configuration is refused when its estimate exceeds what one job may use on this "
            "device; for the largest (8 frames, patch 2) that check says now: "
            f"{vit_page.plain(vit_training.largest_config_budget(device))}. Width and layers set the "
            "parameter count. Training uses AdamW on random windows of the video chosen above (the exercise's "
            "set-up) or of the shipped models' 64 training games, with plain or change-weighted MSE (the "
            "shipped models' loss; they also use fixed sinusoidal positions, width 64, 2 layers and 3000 "
            "steps of batch 32), and bf16 autocast with torch.compile on a GPU. Before you train, the page "
            "times a few steps of the chosen configuration on this device and estimates the whole run from "
            "them; after, it shows the time the run took.",
            expanded=True,
        ):
            vit_training.train_card(video, device)

st.caption(f"Training runs on {device.type.upper()}; each model predicts on the device it is on "
           "(the shipped ones on the CPU). Shipped models: see models/MODELS.md.")
