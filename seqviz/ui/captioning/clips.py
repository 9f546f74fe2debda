"""Which clip the captioning page shows: a test clip, a late clip, one clip of an order pair,
a clip drawn from the sidebar's seed, or an uploaded video resampled to the clip length.
An unusable upload gets an error and the last good clip stays."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from seqviz.captioning import experiment, timeline
from seqviz.captioning.data import Clip, Event, make_clips
from seqviz.ui import params, sidebar, uploads
from seqviz.ui.cache import cached
from seqviz.ui.captioning import shipped
from seqviz.vit import video as videos

SOURCES = ("Test clip", "Late clip", "Order pair", "From the sidebar seed", "Upload")
PAIR_SIDES = ("first", "second (same frames backwards)")
UPLOAD_READ_FRAMES = 600          # frames read from an upload before it is resampled
_LAST_UPLOAD = "_cap_last_upload"


@dataclass(frozen=True, eq=False)
class Shown:
    """The clip on the page: its frames, a key naming them (the cache key of every result on
    them), a label, and its true events and caption (None for an upload)."""

    frames: np.ndarray                  # uint8 (T, 32, 32, 3)
    key: str
    label: str
    events: tuple[Event, ...] | None = None
    caption: str | None = None
    late: bool = False
    pair: int | None = None

    @property
    def multi(self) -> bool:
        return self.events is not None and len(self.events) >= 2


def _from_clip(clip: Clip, key: str, label: str) -> Shown:
    return Shown(clip.frames, key, label, clip.events, clip.caption, clip.late, clip.pair)


def test_clip_count() -> int:
    return len(shipped.tests().clips) - 2 * experiment.ORDER_PAIRS


def seeded_clip(seed: int) -> Clip:
    return make_clips(1, seed=seed, split="test")[0]


def _decode(data: bytes) -> tuple[np.ndarray, int]:
    """An upload's frames resampled evenly to the clip length, and how many were read."""
    frames = videos.read_video(data, max_frames=UPLOAD_READ_FRAMES, size=experiment.VARIANTS["live"].size,
                               min_frames=1)
    length = len(shipped.tests().clips[0].frames)
    return timeline.resample(frames, length), len(frames)


def _upload(container: Any, fallback: Shown) -> Shown:
    upload = uploads.video_uploader(container, "cap_upload", "test clip 0")
    last = st.session_state.get(_LAST_UPLOAD)
    if upload is None:
        if last is None:
            container.info("No video uploaded yet: showing test clip 0.")
            return fallback
        return last
    try:
        data = upload.getvalue()
        frames, read = cached(_decode, max_entries=4)(data)
    except ValueError as error:
        kept = params.literal(last.label) if last is not None else "test clip 0"
        container.error(f"Cannot use {params.literal(upload.name)}: {params.plain(str(error).rstrip('.'))}. "
                        f"Still showing {kept}.",
                        icon=":material/block:")
        return last if last is not None else fallback
    digest = hashlib.sha1(data).hexdigest()[:16]
    shown = Shown(frames, f"upload:{digest}", f"upload {upload.name}")
    container.caption(f"{len(frames)} frames picked evenly from the {read} read"
                      + (f" (the first {UPLOAD_READ_FRAMES} of the video)" if read == UPLOAD_READ_FRAMES else "")
                      + ", centre-cropped and shrunk to 32 × 32.")
    st.session_state[_LAST_UPLOAD] = shown
    return shown


def pick_clip(container: Any = st) -> Shown:
    """The clip widgets (all bound to the URL); returns the clip to show."""
    left, right = container.columns([1, 2])
    source = params.choice("Clip", SOURCES, SOURCES[0], key="cap_source", container=left, widget="selectbox",
                           help="Test clips were never seen in training. Late clips: the only event "
                                "starts in the last quarter. Order pairs: two clips with the same frames "
                                "in opposite orders.")
    clips = shipped.tests().clips
    fallback = _from_clip(clips[0], "test:0", "test clip 0")
    if source == "Test clip":
        index = params.number_input(f"Test clip (0–{test_clip_count() - 1})", 0, test_clip_count() - 1, 0,
                                    key="cap_clip", container=right)
        return _from_clip(clips[index], f"test:{index}", f"test clip {index}")
    if source == "Late clip":
        late = shipped.late_indices()
        number = params.number_input(f"Late clip (0–{len(late) - 1} of the {len(late)} late test clips)", 0,
                                     len(late) - 1, 0, key="cap_late", container=right)
        index = late[number]
        return _from_clip(clips[index], f"test:{index}", f"late clip {number} (test clip {index})")
    if source == "Order pair":
        a, b = right.columns(2)
        pair = params.number_input(f"Order pair (0–{experiment.ORDER_PAIRS - 1})", 0, experiment.ORDER_PAIRS - 1,
                                   0, key="cap_pair", container=a)
        side = params.choice("Which clip", PAIR_SIDES, PAIR_SIDES[0], key="cap_pair_side", container=b)
        index = test_clip_count() + 2 * pair + PAIR_SIDES.index(side)
        return _from_clip(clips[index], f"test:{index}", f"order pair {pair}, {side.split(' ')[0]} clip")
    if source == "From the sidebar seed":
        seed = sidebar.seed()
        right.caption(f"A new clip of the test split drawn from the sidebar's seed, {seed}.")
        return _from_clip(cached(seeded_clip, max_entries=16)(seed), f"seed:{seed}", f"clip of seed {seed}")
    return _upload(right, fallback)


def twin(shown: Shown) -> Shown | None:
    """The other clip of an order pair (the same frames in the opposite order), else None."""
    if shown.pair is None or not shown.key.startswith("test:"):
        return None
    index = int(shown.key.split(":")[1])
    other = index + 1 if (index - test_clip_count()) % 2 == 0 else index - 1
    clip = shipped.tests().clips[other]
    return _from_clip(clip, f"test:{other}", f"its twin (test clip {other})")
