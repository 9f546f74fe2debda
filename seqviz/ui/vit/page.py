"""Widgets and state of the predictive ViT page (Dosovitskiy et al. 2020, ViT):
the video source, the shipped and the session's own models, and their evaluation."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st
import torch

from seqviz.core import checkpoints
from seqviz.ui import params, sidebar
from seqviz.ui.cache import cached
from seqviz.vit import train as vit_train
from seqviz.vit import video as videos
from seqviz.vit.model import PredictiveViT, ViTConfig

VIDEO_FRAMES, VIDEO_SIZE = vit_train.DEFAULT_VIDEO["num_frames"], vit_train.DEFAULT_VIDEO["size"]
MINE = "Mine (trained here)"
# label -> (checkpoint file, trained on a flat background)
SHIPPED = {"Full": ("vit_full.pt", False), "No self-attention": ("vit_no_attention.pt", False),
           "No positions": ("vit_no_pos.pt", False), "Full, flat background": ("vit_full_flat.pt", True),
           "No positions, flat background": ("vit_no_pos_flat.pt", True)}
_LAST_UPLOAD, _MINE, _SELECT_MINE = "_vit_last_upload", "_vit_mine", "_vit_select_mine"


@dataclass
class Video:
    frames: np.ndarray               # uint8 (T, H, W, 3)
    label: str
    surprise: np.ndarray | None      # bool (T, H, W) where random items changed pixels, game only
    movers: np.ndarray | None = None  # bool (T, H, W) ball and paddle, game only

    @property
    def key(self) -> str:
        return hashlib.sha1(self.frames.tobytes()).hexdigest()[:16]


def game(seed: int, textured: bool) -> videos.GameVideo:
    return videos.game_with_masks(VIDEO_FRAMES, VIDEO_SIZE, seed=seed, textured_background=textured)


def _decode(data: bytes) -> np.ndarray:
    return videos.read_video(data, max_frames=VIDEO_FRAMES, size=VIDEO_SIZE)


def pick_video(min_frames: int) -> Video:
    """The source widgets; an unusable upload shows an error and the last good video stays."""
    left, right = st.columns([1, 2])
    source = params.choice("Video", ["Synthetic game", "Upload"], "Synthetic game", key="vit_source",
                           container=left, horizontal=True)
    textured = params.toggle("Textured background", True, key="vit_texture", container=left,
                             disabled=source != "Synthetic game",
                             help="A fixed texture scrolling left one pixel per frame; off: a flat colour")
    seed = sidebar.seed()
    fallback = cached(game)(seed, textured)
    fallback_video = Video(fallback.frames, f"synthetic game, seed {seed}", fallback.surprise,
                           fallback.movers)
    if source == "Synthetic game":
        return fallback_video
    upload = right.file_uploader(f"Upload a video ({', '.join(videos.VIDEO_TYPES)}, at most "
                                 f"{videos.MAX_UPLOAD_BYTES // 2**20} MB)", type=list(videos.VIDEO_TYPES),
                                 key="vit_upload", max_upload_size=videos.MAX_UPLOAD_BYTES // 2**20)
    last = st.session_state.get(_LAST_UPLOAD)
    if upload is None:
        if last is None:
            right.info("No video uploaded yet: showing the synthetic game.")
            return fallback_video
        return last
    try:
        frames = cached(_decode, max_entries=4)(upload.getvalue())
        if len(frames) < min_frames:
            raise ValueError(f"the video has {len(frames)} frames; the model reads "
                             f"{min_frames - 1} and predicts the next, so it needs at least {min_frames}")
    except ValueError as error:
        kept = last.label if last is not None else "the synthetic game"
        right.error(f"Cannot use {upload.name}: {error}. Still showing {kept}.")
        return last if last is not None else fallback_video
    video = Video(frames, f"upload {upload.name}", None)
    st.session_state[_LAST_UPLOAD] = video
    return video


@st.cache_resource(show_spinner=False)
def shipped(label: str) -> tuple[PredictiveViT, dict[str, Any], list[float]]:
    """A shipped checkpoint (shared by every session): model in eval mode, metrics, loss curve."""
    name, _ = SHIPPED[label]
    payload = checkpoints.load(checkpoints.MODELS_DIR / name)
    model = PredictiveViT(ViTConfig(**payload["config"]))
    model.load_state_dict(payload["state_dict"])
    model.eval().requires_grad_(False)
    curve_file = (checkpoints.MODELS_DIR / name).with_suffix(".json")
    curve = json.loads(curve_file.read_text())["loss"] if curve_file.is_file() else []
    return model, payload["metrics"], curve


def mine() -> dict[str, Any] | None:
    """This session's own model: {"model", "config", "history", "version", "device"} or None."""
    return st.session_state.get(_MINE)


def set_mine(state: dict[str, Any]) -> None:
    st.session_state[_MINE] = state


def select_mine_next_run() -> None:
    st.session_state[_SELECT_MINE] = True


def pick_model(container: Any) -> tuple[str, PredictiveViT, list[float]]:
    """Radio over the shipped models and this session's own; returns (label, model, loss curve)."""
    if st.session_state.pop(_SELECT_MINE, False):
        st.session_state["vit_model"] = MINE
    label = params.choice("Model", list(SHIPPED) + [MINE], "Full", key="vit_model", container=container,
                          widget="selectbox")
    own = mine()
    if label == MINE and own is None:
        container.info("You have not trained a model yet (see *Train your own* below): using the "
                       "shipped full model meanwhile.")
        label = "Full"
    if label == MINE:
        return label, own["model"], [h["loss"] for h in own["history"]]
    model, _, curve = shipped(label)
    return label, model, curve


def _analyse(model: PredictiveViT, frames: np.ndarray) -> dict[str, np.ndarray]:
    f = model.config.frames
    truth = frames[f:].astype(np.float64) / 255.0                     # (T-F, H, W, 3)
    predicted = vit_train.predict_all(model, frames)                 # (T-F, H, W, 3)
    psnr, ssim = vit_train.frame_metrics(truth, predicted)
    copy_psnr, copy_ssim = vit_train.frame_metrics(truth, frames[f - 1:-1] / 255.0)
    return {"predicted": predicted, "psnr": psnr, "ssim": ssim, "copy_psnr": copy_psnr,
            "copy_ssim": copy_ssim, "times": np.arange(f, len(frames))}


def analyse_shipped(label: str, frames: np.ndarray) -> dict[str, np.ndarray]:
    return _analyse(shipped(label)[0], frames)


def analysis(label: str, model: PredictiveViT, video: Video) -> dict[str, np.ndarray]:
    """Predictions of every frame and their PSNR / SSIM (cached per model and video)."""
    if label != MINE:
        return cached(analyse_shipped, max_entries=16)(label, video.frames)
    store = st.session_state.setdefault("_vit_analysis", {})
    key = (mine()["version"], video.key)
    if key not in store:
        store.clear()
        store[key] = _analyse(model.cpu(), video.frames)
    return store[key]


@torch.inference_mode()
def attention_maps(model: PredictiveViT, frames: np.ndarray, target: int) -> np.ndarray:
    """Attention of the last frame's tokens, (layers, heads, P, F, grid, grid), for frame `target`."""
    c = model.config
    window = vit_train.to_tensor(frames[target - c.frames:target])[None]  # (1, F, C, H, W)
    _, weights = model.cpu()(window, return_attention=True)               # (1, L, heads, N, N)
    last = weights[0, :, :, -c.patches_per_frame:, :]                     # (L, heads, P, N)
    return last.reshape(c.depth, c.heads, c.patches_per_frame, c.frames, c.grid, c.grid).numpy()


def _rollout_shipped(label: str, frames: np.ndarray, start: int, steps: int) -> np.ndarray:
    return vit_train.rollout(shipped(label)[0], frames, start, steps)


def cached_rollout(label: str, model: PredictiveViT, video: Video, start: int, steps: int) -> np.ndarray:
    """An autoregressive rollout of `steps` frames from frame `start`: float (steps, H, W, 3)."""
    if label != MINE:
        return cached(_rollout_shipped, max_entries=32)(label, video.frames, start, steps)
    return vit_train.rollout(model.cpu(), video.frames, start, steps)
