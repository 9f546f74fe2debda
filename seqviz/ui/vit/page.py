"""Widgets and state of the predictive ViT page (Dosovitskiy et al. 2020, ViT):
the video source, the shipped and the session's own models, and their evaluation
(seqviz.vit.evaluate, the one evaluation, on the device each model is on)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import streamlit as st

from seqviz.recurrent.cells import run_sequential
from seqviz.ui import params, sidebar, uploads
from seqviz.ui.cache import cached
from seqviz.ui.vit import shipped as shipped_models
from seqviz.vit import evaluate as vit_eval
from seqviz.vit import experiment
from seqviz.vit import video as videos
from seqviz.vit.games import TRAIN_GAMES
from seqviz.vit.model import PredictiveViT, ViTConfig

T = TypeVar("T")
VIDEO_FRAMES, VIDEO_SIZE = videos.DEFAULT_VIDEO["num_frames"], videos.DEFAULT_VIDEO["size"]
MINE = "Mine (trained here)"
MODEL_KEY = "vit_model"
SEED_KEY = "vit_model_seed"
DEFAULT_LABEL = experiment.VARIANTS["full"].label
_LAST_UPLOAD, _MINE, _ANALYSIS = "_vit_last_upload", "_vit_mine", "_vit_analysis"
_HOLDER = "_vit_mine_holder"


def plain(text: str) -> str:
    """`text` with every markdown punctuation mark escaped, so st.markdown shows it as written."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:^&=])", r"\\\1", text)


def literal(text: str) -> str:
    """`text` as a markdown code span: shown exactly as typed, never interpreted as markdown."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


@dataclass(frozen=True, eq=False)
class Video:
    frames: np.ndarray               # uint8 (T, H, W, 3)
    label: str
    surprise: np.ndarray | None      # bool (T, H, W) where random items changed pixels, game only
    movers: np.ndarray | None = None  # bool (T, H, W) ball and paddle, game only
    ball: np.ndarray | None = None    # bool (T, H, W) the ball, game only
    bounce: np.ndarray | None = None  # bool (T,) the ball's path turned into frame t, game only
    repeats: np.ndarray | None = None  # bool (T,) frames that repeat the one before (kept), uploads only

    @property
    def key(self) -> str:
        return hashlib.sha1(self.frames.tobytes()).hexdigest()[:16]


@dataclass(frozen=True)
class OwnModel:
    """This session's own model, as training left it."""

    model: PredictiveViT
    config: ViTConfig
    losses: tuple[float, ...]
    version: int                     # one more at every training run
    device: str                      # where it trained ("CPU", "CUDA")
    seconds: float
    notice: str | None = None        # why it trained elsewhere than asked (a GPU failure)
    estimate_s: float | None = None  # the time estimated for the run before it started
    steps_asked: int = 0
    trained_on: str = "this video"   # or "the 64 training games", and the loss


def game(seed: int, textured: bool) -> videos.GameVideo:
    return videos.game_with_masks(VIDEO_FRAMES, VIDEO_SIZE, seed=seed, textured_background=textured)


def game_video(seed: int, textured: bool, label: str) -> Video:
    clip = cached(game)(seed, textured)
    return Video(clip.frames, label, clip.surprise, clip.movers, clip.ball, clip.bounce)


DUPLICATE_TOLERANCE = 0.5             # mean |difference| in uint8 units under which a frame repeats


def _decode(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Twice the frames the page shows (so that dropping repeated ones still leaves enough),
    and which of them repeat the frame before."""
    frames = videos.read_video(data, max_frames=2 * VIDEO_FRAMES, size=VIDEO_SIZE)
    return frames, videos.duplicate_frames(frames, DUPLICATE_TOLERANCE)


def _without_repeats(name: str, decoded: np.ndarray, repeats: np.ndarray, container: Any) -> Video:
    """The upload's first VIDEO_FRAMES frames, with the repeated ones dropped if the student
    keeps the toggle on (the default); the caption says how many repeat."""
    shown = repeats[:VIDEO_FRAMES]
    if not repeats.any():
        return Video(decoded[:VIDEO_FRAMES], f"upload {name}", None)
    drop = params.toggle("Drop repeated frames", True, key="vit_dedupe", container=container,
                         help="A frame whose mean |difference| to the one before is under "
                              f"{DUPLICATE_TOLERANCE:g}/255 repeats it; copying the last frame is "
                              "exact there, which flatters the copy baseline")
    if drop:
        kept = decoded[~repeats][:VIDEO_FRAMES]
        container.caption(f"{int(repeats.sum())} of the {len(decoded)} decoded frames repeat the frame "
                          f"before them and were dropped; {len(kept)} frames remain.")
        return Video(kept, f"upload {name}, repeated frames dropped", None)
    container.caption(f"{int(shown.sum())} of these {len(shown)} frames repeat the frame before them "
                      "(kept): copying the last frame is exact on them.")
    return Video(decoded[:VIDEO_FRAMES], f"upload {name}", None, repeats=shown)


def pick_video(min_frames: int) -> Video:
    """The source widgets; an unusable upload shows an error and the last good video stays."""
    left, right = st.columns([1, 2])
    source = params.choice("Video", ["Synthetic game", "Upload"], "Synthetic game", key="vit_source",
                           container=left, horizontal=True)
    textured = params.toggle("Textured background", True, key="vit_texture", container=left,
                             disabled=source != "Synthetic game",
                             help="A fixed texture scrolling left one pixel per frame; off: a flat colour")
    seed = sidebar.seed()
    fallback_video = game_video(seed, textured, f"synthetic game, seed {seed}")
    if source == "Synthetic game":
        return fallback_video
    upload = uploads.video_uploader(right, "vit_upload", "the synthetic game")
    last = st.session_state.get(_LAST_UPLOAD)
    if upload is None:
        if last is None:
            right.info("No video uploaded yet: showing the synthetic game.")
            return fallback_video
        return last
    try:
        decoded, repeats = cached(_decode, max_entries=4)(upload.getvalue())
        video = _without_repeats(upload.name, decoded, repeats, right)
        if len(video.frames) < min_frames:
            dropped = int(repeats.sum()) if video.repeats is None else 0     # by the toggle, when on
            why = (f" once the {dropped} that repeat the frame before are dropped (turn off Drop repeated "
                   "frames to keep them)") if dropped else ""
            raise ValueError(f"the video has {len(video.frames)} frame(s){why}; the model reads {min_frames - 1} "
                             f"and predicts the next, so it needs at least {min_frames}")
    except ValueError as error:
        kept = literal(last.label) if last is not None else "the synthetic game"
        right.error(f"Cannot use {literal(upload.name)}: {str(error).rstrip('.')}. Still showing {kept}.")
        return last if last is not None else fallback_video
    st.session_state[_LAST_UPLOAD] = video
    return video


def shipped_ref(label: str) -> str:
    """The picker's label of a shipped model -> "name:seed" (the cache key of its results)."""
    name, seed = REFS[label]
    return f"{name}:{seed}"


def shipped(ref: str):
    """The shipped checkpoint of a "name:seed" reference (loaded once per process)."""
    name, seed = ref.split(":")
    return shipped_models.checkpoint(name, int(seed))


REFS: dict[str, tuple[str, int]] = {
    **{f"{variant.label}, seed {seed}": (name, seed) for name, variant in experiment.VARIANTS.items()
       for seed in experiment.SEEDS},
    shipped_models.ONE_VIDEO_LABEL: (experiment.ONE_VIDEO, 0),
}


def own_holder() -> dict:
    """A plain dict in this session's state that the training thread writes the model into: the
    thread never calls streamlit (a streamlit call from it would be interrupted by the page's
    own reruns, a widget moved or Stop pressed, and end the training)."""
    return st.session_state.setdefault(_HOLDER, {})


def mine() -> OwnModel | None:
    """This session's own model, or None before the first training."""
    latest = own_holder().get("model")
    if latest is not None and st.session_state.get(_MINE) is not latest:
        st.session_state[_MINE] = latest
    return st.session_state.get(_MINE)


def set_mine(own: OwnModel, holder: dict | None = None) -> None:
    """Keep `own` as this session's model. From the training thread, pass the holder that the
    page's run got from own_holder(): nothing else is touched there."""
    if holder is not None:
        holder["model"] = own
        return
    own_holder()["model"] = own
    st.session_state[_MINE] = own


def show_own_model() -> None:
    """Reset the model picker to its default, which is the session's own model once there is
    one: its value and URL entry are dropped, so the next run draws it from the default."""
    st.session_state.pop(MODEL_KEY, None)
    if MODEL_KEY in st.query_params:
        del st.query_params[MODEL_KEY]


def pick_model(container: Any) -> tuple[str, PredictiveViT, list[float]]:
    """The model picker: the shipped models (a variant and its training seed, or the one-video
    model) and this session's own (the default once trained). Returns (label, model, loss curve)."""
    own = mine()
    choices = list(shipped_models.LABELS) + [MINE]
    label = params.choice("Model", choices, MINE if own is not None else DEFAULT_LABEL,
                          key=MODEL_KEY, container=container, widget="selectbox",
                          help="The five variants trained on 64 games; the one-video model memorised one "
                               "long game (the exercise's set-up); yours trains on this page.")
    if label == MINE and own is None:
        container.info("You have not trained a model yet (see *Train your own*): using the "
                       "shipped full model meanwhile.")
        label = DEFAULT_LABEL
    if label == MINE:
        return label, own.model, list(own.losses)
    if shipped_models.LABELS[label] in experiment.VARIANTS:
        seed = params.choice("Training seed", [str(s) for s in experiment.SEEDS], str(experiment.SEEDS[0]),
                             key=SEED_KEY, container=container, horizontal=True,
                             help="Each variant was trained from three seeds (initial weights and batch "
                                  "order); conclusions should hold for all three.")
        label = f"{label}, seed {seed}"
    checkpoint = shipped(shipped_ref(label))
    return label, checkpoint.model, list(checkpoint.record.get("loss", []))


def training_game_notice(label: str, seed: int) -> str | None:
    """Whether the synthetic game at `seed` is one the chosen shipped model trained on."""
    if label == MINE:
        return None
    name, _ = REFS[label]
    if name == experiment.ONE_VIDEO:
        return ("this model trained on the game of seed 0 (1024 frames; the first 96 are this video): "
                "it is being measured on the video it learned" if seed == 0 else None)
    if seed in TRAIN_GAMES.seeds:
        return (f"seed {seed} is one of the {TRAIN_GAMES.count} games this model trained on (seeds "
                f"{TRAIN_GAMES.seeds.start}–{TRAIN_GAMES.seeds.stop - 1}): choose another seed for an unseen game")
    return None


def on_one_thread(model: PredictiveViT, fn: Callable[[], T]) -> T:
    """`fn()` (a prediction of `model`, no streamlit inside) on a thread with one torch thread
    when the model is on the CPU (seqviz.recurrent.cells.run_sequential): these small batches
    gain nothing from intra-op threads, and on a busy 2-core CPU the spinning OpenMP workers
    made predicting the default video 8x slower (680 ms against 80 ms measured here)."""
    return run_sequential(fn, next(model.parameters()).device)


def analyse_shipped(ref: str, frames: np.ndarray, movers: np.ndarray | None, surprise: np.ndarray | None,
                    ball: np.ndarray | None = None, bounce: np.ndarray | None = None) -> vit_eval.Evaluation:
    """evaluate() of the shipped model `ref` ("name:seed") on a video."""
    model = shipped(ref).model
    return on_one_thread(model, lambda: vit_eval.evaluate(model, frames, movers=movers, surprise=surprise,
                                                          ball=ball, bounce=bounce))


def analysis(label: str, model: PredictiveViT, video: Video) -> vit_eval.Evaluation:
    """The evaluation of `model` on the video (cached per model and video)."""
    if label != MINE:
        return cached(analyse_shipped, max_entries=32)(shipped_ref(label), video.frames, video.movers,
                                                       video.surprise, video.ball, video.bounce)
    store = st.session_state.setdefault(_ANALYSIS, {})
    own = mine()
    key = (own.version, len(own.losses), video.key)
    if key not in store:
        store.clear()
        store[key] = on_one_thread(model, lambda: vit_eval.evaluate(
            model, video.frames, movers=video.movers, surprise=video.surprise, ball=video.ball,
            bounce=video.bounce))
    return store[key]


def _attention_shipped(ref: str, frames: np.ndarray, target: int) -> np.ndarray:
    model = shipped(ref).model
    return on_one_thread(model, lambda: vit_eval.attention_maps(model, frames, target))


def attention(label: str, model: PredictiveViT, frames: np.ndarray, target: int) -> np.ndarray:
    """(layers, heads, P, F, grid, grid) attention maps for frame `target` (cached for shipped models)."""
    if label != MINE:
        return cached(_attention_shipped, max_entries=64)(shipped_ref(label), frames, target)
    return on_one_thread(model, lambda: vit_eval.attention_maps(model, frames, target))


def _rollout_shipped(ref: str, frames: np.ndarray, start: int, steps: int) -> np.ndarray:
    model = shipped(ref).model
    return on_one_thread(model, lambda: vit_eval.rollout(model, frames, start, steps))


def cached_rollout(label: str, model: PredictiveViT, video: Video, start: int, steps: int) -> np.ndarray:
    """An autoregressive rollout of `steps` frames from frame `start`: float (steps, H, W, 3)."""
    if label != MINE:
        return cached(_rollout_shipped, max_entries=32)(shipped_ref(label), video.frames, start, steps)
    return on_one_thread(model, lambda: vit_eval.rollout(model, video.frames, start, steps))
