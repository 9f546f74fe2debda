"""The shipped captioners on the page: loaded once per process and shared by every session
(eval mode, no gradients), their results on one clip cached by plain values (which model,
which clip, which policy), and their measurements on the test clips."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import streamlit as st

from seqviz.captioning import experiment, inference, metrics, timeline
from seqviz.captioning.inference import Decoded, StreamStep
from seqviz.captioning.models import Captioner
from seqviz.recurrent.cells import run_sequential

T = TypeVar("T")
OFFLINE_VARIANTS = {"offline": "offline, additive attention (Bahdanau)",
                    "offline-multiplicative": "offline, multiplicative attention (Luong)",
                    "offline-flow": "offline, additive attention + optical flow"}


@st.cache_resource(show_spinner=False, max_entries=32)
def model(variant: str, seed: int) -> Captioner:
    """A shipped captioner (experiment.load_checkpoint): CPU, eval mode, no gradients."""
    loaded = experiment.load_checkpoint(variant, seed).model
    loaded.requires_grad_(False)
    return loaded


@st.cache_resource(show_spinner=False)
def tests() -> experiment.TestSet:
    """The test clips every shipped model was measured on (never seen in training)."""
    return experiment.test_set()


def late_indices() -> list[int]:
    """Indices into the test set of its late clips (the only event starts in the last quarter)."""
    return [i for i, clip in enumerate(tests().clips) if clip.late]


def quality_rows() -> tuple[experiment.QualityRow, ...] | None:
    """The shipped quality table (models/caption_seeds.csv), or None when it is not there."""
    return _read(experiment.QUALITY_CSV, experiment.read_quality)


def wait_k_rows() -> tuple[experiment.WaitKRow, ...] | None:
    """The shipped wait-k table (models/caption_waitk.csv), or None when it is not there."""
    return _read(experiment.WAIT_K_CSV, experiment.read_wait_k)


def _read(path, reader):
    if not path.exists():
        return None
    return _cached_table(str(path), path.stat().st_mtime_ns, reader)


@st.cache_resource(show_spinner=False, max_entries=8)
def _cached_table(path: str, version: int, _reader):
    """A shipped table, read again when the file changes (its modification time is `version`)."""
    return tuple(_reader(Path(path)))


def _on_one_thread(fn: Callable[[], T]) -> T:
    """`fn()` (inference with no streamlit inside) on a thread with one torch thread: these
    word-by-word loops gain nothing from intra-op threads on a shared CPU (see run_sequential)."""
    return run_sequential(fn)


@st.cache_data(show_spinner=False, max_entries=256)
def live_stream(seed: int, clip: str, _frames: np.ndarray, wait_k: int, redecode: bool) -> list[StreamStep]:
    """The live captioner streaming clip `clip` (a key naming `_frames`) under wait-k or re-decoding."""
    return _on_one_thread(lambda: inference.stream(model("live", seed), _frames, wait_k=wait_k, redecode=redecode))


@st.cache_data(show_spinner=False, max_entries=256)
def decoded(variant: str, seed: int, clip: str, _frames: np.ndarray, attention: str = "soft",
            wait_k: int | None = None) -> Decoded:
    """One caption with its attention: the whole clip read, the live model's words under wait-k
    when `wait_k` is given (word i reads the first k + i frames)."""
    captioner = model(variant, seed)
    return _on_one_thread(lambda: inference.captions(captioner, _frames[None], wait_k=wait_k,
                                                     attention=attention)[0])


@st.cache_data(show_spinner=False, max_entries=128)
def per_frame(seed: int, clip: str, _frames: np.ndarray) -> tuple[list[str], list[str]]:
    """The per-frame captioner on each frame alone, and on the average of frames 0..j for each j."""
    captioner = model("per-frame", seed)
    return _on_one_thread(lambda: (inference.per_frame_captions(captioner, _frames),
                                   timeline.running_average_captions(captioner, _frames)))


@st.cache_resource(show_spinner=False, max_entries=64)
def test_captions(variant: str, seed: int, attention: str) -> tuple[str, ...]:
    """What a shipped captioner writes for every test clip under one attention mode at inference
    (computed once per process, on request: it is not a timing)."""
    captioner = model(variant, seed)
    frames = tests().frames
    return tuple(_on_one_thread(lambda: [d.caption for d in inference.captions(captioner, frames,
                                                                               attention=attention)]))


@dataclass(frozen=True)
class ModeScore:
    """Order accuracy on the test clips under one attention mode, and how many captions differ
    from the ones soft attention writes."""

    order: float
    order_multi: float
    changed: float


def mode_score(variant: str, seed: int, attention: str) -> ModeScore:
    written, soft = test_captions(variant, seed, attention), test_captions(variant, seed, "soft")
    clips = tests()
    multi = [i for i, clip in enumerate(clips.clips) if len(clip.events) >= 2]
    return ModeScore(metrics.order_accuracy(written, clips.truths),
                     metrics.order_accuracy([written[i] for i in multi], [clips.truths[i] for i in multi]),
                     float(np.mean([a != b for a, b in zip(written, soft)])))
