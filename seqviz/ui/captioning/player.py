"""The clip, frame by frame or played in real time, and what each captioner says at the frame
shown: the live caption as it grows (each word stamped with the frame it was written or
revised at, revisions struck through), the offline caption once the clip has ended, and the
per-frame captioner on the frame alone and on the average of the frames seen."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import streamlit as st

from seqviz.captioning import inference, metrics, timeline
from seqviz.captioning.inference import StreamStep
from seqviz.plots.captioning import enlarge
from seqviz.ui import params
from seqviz.ui.captioning import shipped
from seqviz.ui.captioning.clips import Shown, twin
from seqviz.ui.charts import show_image

FRAME_KEY = "cap_frame"
_PLAYED = "_cap_played"           # the frame a Play run last drew (kept if the run is interrupted)
SCALE = 8                         # 32 x 32 frames drawn at 256 x 256


@dataclass(frozen=True)
class Captions:
    """Everything the player draws, for every frame of one clip."""

    live: list[StreamStep]
    offline: str
    each_frame: list[str]
    running: list[str]
    wait_k: int
    redecode: bool


def resume_played_frame() -> None:
    """Call before the frame slider exists: a Play run that was interrupted (Stop, Play again,
    any widget) or that finished leaves the frame where it stopped drawing."""
    if _PLAYED in st.session_state:
        st.session_state[FRAME_KEY] = st.session_state.pop(_PLAYED)


def verdict(caption: str, shown: Shown, *, final: bool = True) -> str:
    """✓ or ✗ against the true events (event order, seqviz.captioning.metrics.order_correct); a
    caption still being written is "not right yet"."""
    if shown.events is None:
        return ""
    if metrics.order_correct(caption, shown.events):
        return " :green[**✓ right**]"
    return " :red[**✗ wrong**]" if final else " :red[**✗ not right yet**]"


def live_markdown(states: list[timeline.WordState]) -> str:
    """The live caption as markdown: words with their frame stamp in subscript, words written at
    this frame in bold, revised ones highlighted, and the words they replaced struck through."""
    parts = []
    for state in states:
        old = " ".join(f":gray[~~{word}{timeline.subscript(stamp)}~~]" for word, stamp in state.replaced)
        word = f"{state.word}{timeline.subscript(state.stamp)}"
        if state.revised:
            word = f":orange-background[{word}]"
        elif state.new:
            word = f"**{word}**"
        parts.append(f"{old} {word}" if old else word)
    return " ".join(parts)


def _nothing_yet(captions: Captions, frame: int) -> str:
    if captions.redecode:
        return (f"nothing yet: re-decoding starts once {captions.wait_k} frame(s) are read "
                f"(frame {captions.wait_k - 1})")
    return (f"nothing yet: wait-{captions.wait_k} writes its first word after reading {captions.wait_k} "
            f"frame(s) (frame {captions.wait_k - 1}); {frame + 1} read so far")


def draw_frame(picture: Any, words: Any, shown: Shown, captions: Captions, frame: int, *,
               download: bool = True) -> None:
    """The frame into `picture` and the four captions at it into `words` (two st.empty slots);
    the frame's PNG download only where the slot is drawn once in the run (not while playing)."""
    total = len(shown.frames)
    show_image(enlarge(shown.frames[frame], SCALE), caption=f"frame {frame} of 0–{total - 1}", container=picture,
               key="cap_picture", filename=f"caption_clip_frame_{frame}", download=download)
    step = captions.live[frame]
    policy = "re-decoding at every frame" if captions.redecode else f"wait-{captions.wait_k}"
    lines = []
    if shown.caption is not None:
        lines.append(f"**Truth:** {shown.caption}")
    states = timeline.live_words(captions.live, frame)
    live = (live_markdown(states) + verdict(step.caption, shown, final=frame == total - 1) if states
            else f":gray[{_nothing_yet(captions, frame)}]")
    lines.append(f"**Live** ({policy}), after {frame + 1} frame(s): {live}")
    if frame == total - 1:
        lines.append(f"**Offline:** {captions.offline}{verdict(captions.offline, shown)}")
    else:
        lines.append(f"**Offline:** :gray[not available yet: it reads the whole clip before writing "
                     f"({total - 1 - frame} more frame(s) to go)]")
    lines.append(f"**Per-frame, this frame alone:** {captions.each_frame[frame]}"
                 f"{verdict(captions.each_frame[frame], shown)}")
    lines.append(f"**Per-frame, average of frames 0–{frame}:** {captions.running[frame]}"
                 f"{verdict(captions.running[frame], shown)}")
    with words.container():
        st.markdown("  \n".join(lines))
        st.caption("Small numbers: the frame at which each live word was written or last revised. Bold: written "
                   "at this frame; highlighted: revised at this frame; struck through: the words it replaced.")


def controls(container: Any, total: int) -> tuple[int, int, bool]:
    """Frame slider, frames per second, Play and Stop; returns (frame, fps, play pressed)."""
    resume_played_frame()
    frame = params.slider("Frame", 0, total - 1, total - 1, key=FRAME_KEY, container=container,
                          help="The frame the clip is at; every caption is what its model says there.")
    fps = params.slider("Frames per second", 1, 30, 6, key="cap_fps", container=container)
    left, right = container.columns(2)
    play = left.button("Play", key="cap_play", icon=":material/play_arrow:", type="primary", width="stretch",
                       help="Plays the clip from the frame shown (from the start if at the end).")
    right.button("Stop", key="cap_stop", icon=":material/stop:", width="stretch",
                 help="Stops playing at the frame shown.")
    return frame, fps, play


def watch(shown: Shown, captions: Captions) -> None:
    """The player: the frame and its controls on the left, the captions on the right; Play draws
    frame after frame into the same two slots."""
    total = len(shown.frames)
    left, right = st.columns([1, 2])
    picture = left.empty()
    frame, fps, pressed = controls(left, total)
    words = right.empty()
    if pressed:
        play(picture, words, shown, captions, frame, fps)
    draw_frame(picture, words, shown, captions, frame)


def play(picture: Any, words: Any, shown: Shown, captions: Captions, start: int, fps: int) -> None:
    """Draw frame after frame at `fps`; every frame drawn is kept in the session, so a Stop, a
    second Play or any widget leaves the clip where it was, and the end reruns the page there."""
    total = len(shown.frames)
    start = 0 if start >= total - 1 else start
    for frame in range(start, total):
        begun = time.perf_counter()
        st.session_state[_PLAYED] = frame
        draw_frame(picture, words, shown, captions, frame, download=False)
        time.sleep(max(0.0, 1 / fps - (time.perf_counter() - begun)))
    st.rerun()


def lagging_sentence(captions: Captions, total: int) -> str:
    """Average Lagging of this clip's live caption (Ma et al. 2019), from when its words were settled."""
    delays = inference.final_delays(captions.live)
    if not delays:
        return "The live captioner wrote no word on this clip."
    lag = metrics.average_lagging(delays, total)
    offline = metrics.average_lagging([total], total)
    spacing = total / len(delays)
    text = (f"On this clip the live caption's {len(delays)} words were settled after reading "
            f"{', '.join(map(str, delays))} frames: an Average Lagging of {lag:.1f} frames behind a writer that "
            f"spreads them evenly over the clip, one every {spacing:.1f} frames")
    text += (" (negative: ahead of it)" if lag < 0 else "")
    text += f"; the offline captioner's is {offline:.0f}, as it writes only after the last frame."
    if captions.redecode:
        revised = sum(len(step.revised) for step in captions.live)
        text += f" Re-decoding revised {revised} word(s) on the way."
    return text


def pair_sentence(shown: Shown, variant: str, seed: int) -> str:
    """For an order pair: what per-frame and offline write for both clips, and whether they differ."""
    other = twin(shown)
    if other is None:
        return ""
    mine = shipped.per_frame(seed, shown.key, shown.frames)[1][-1]
    theirs = shipped.per_frame(seed, other.key, other.frames)[1][-1]
    offline_mine = shipped.decoded(variant, seed, shown.key, shown.frames).caption
    offline_theirs = shipped.decoded(variant, seed, other.key, other.frames).caption
    same = "the same caption" if mine == theirs else "different captions"
    return (f"Its twin clip holds the same frames backwards (“{other.caption}”). Per-frame, averaging all frames, "
            f"writes {same} for the two: “{mine}” here and “{theirs}” there; offline writes “{offline_mine}” "
            f"here and “{offline_theirs}” there.")
