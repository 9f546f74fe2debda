"""What each captioner says about one clip at every frame, for a page that plays the clip.

- the live caption after each frame (inference.stream) and, for each word, the words that
  stood at its place before it was revised;
- the per-frame model on each frame alone, and on the average of the frames seen so far
  (the same captions as inference.captions after j + 1 frames, decoded as one batch);
- which frames each word of a wait-k caption could read (the rest are not read yet),
  and the frames a word attended to most;
- uploads resampled evenly to the clip length the captioners were trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from seqviz.captioning import inference
from seqviz.captioning.inference import StreamStep
from seqviz.captioning.models import Captioner, frames_tensor
from seqviz.captioning.train import wait_k_allowed

__all__ = ["WordState", "live_words", "running_average_captions", "readable_frames", "top_frames",
           "resample", "subscript"]

_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def subscript(number: int) -> str:
    """A whole number in subscript digits (frame stamps under the words)."""
    return str(number).translate(_SUBSCRIPTS)


@dataclass(frozen=True)
class WordState:
    """One place of the live caption at a frame: its word, the frame it was written or last
    revised at, the words it held before with the frame each was written at (oldest first),
    and whether it was written or revised at this very frame."""

    word: str
    stamp: int
    replaced: tuple[tuple[str, int], ...]
    new: bool
    revised: bool


def live_words(steps: list[StreamStep], frame: int) -> list[WordState]:
    """The live caption after reading frame `frame` (0-based), place by place, with the history
    of each place: the words it held before and since when. Places that a re-decoding
    dropped (the caption got shorter) are not shown: only the caption as it stands is."""
    if not steps:
        return []
    frame = min(max(frame, 0), len(steps) - 1)
    history: list[list[tuple[str, int]]] = []
    for step in steps[:frame + 1]:
        for place, (word, stamp) in enumerate(zip(step.words, step.stamps)):
            if place == len(history):
                history.append([(word, stamp)])
            elif history[place][-1] != (word, stamp):
                history[place].append((word, stamp))
        del history[len(step.words):]
    now = steps[frame]
    return [WordState(word, stamp, tuple(history[place][:-1]), place in now.written, place in now.revised)
            for place, (word, stamp) in enumerate(zip(now.words, now.stamps))]


@torch.no_grad()
def running_average_captions(model: Captioner, frames: np.ndarray, *, attention: str = "soft") -> list[str]:
    """What the per-frame model writes after each frame of a clip (T, H, W, 3): from the average
    of the features of frames 0..j, for every j; the same as inference.captions after j + 1 of
    the T frames, decoded for all j at once."""
    if model.config.kind != "per-frame":
        raise ValueError("running averages are what the per-frame captioner reads")
    frames = np.asarray(frames)
    if frames.ndim != 4:
        raise ValueError(f"one clip (T, H, W, 3), not {frames.shape}")
    device = next(model.parameters()).device
    features = model.features(frames_tensor(frames, device)[None])[0]                 # (T, feature)
    counts = torch.arange(1, len(frames) + 1, device=device, dtype=features.dtype)[:, None]
    memory = model.encoder_input(features.cumsum(0) / counts)[:, None]   # (T, 1, feature), standardised
    return [d.caption for d in inference.decode(model, memory, attention=attention)]


def readable_frames(rows: int, total: int, wait_k: int | None = None) -> np.ndarray:
    """bool (rows, total): which frames row i of a caption (its words, then <eos>) could attend
    to: all of them offline, the first min(k + i, total) under wait-k (Ma et al. 2019)."""
    if wait_k is None:
        return np.ones((rows, total), bool)
    if wait_k < 1:
        raise ValueError("wait-k needs k >= 1")
    return wait_k_allowed(torch.tensor([wait_k]), rows, total)[0].numpy()


def top_frames(alpha: np.ndarray, count: int = 4) -> list[tuple[int, float]]:
    """The `count` frames with the largest attention weight in one row alpha (S,), largest
    first (earlier frame first on ties), as (frame, weight); frames of zero weight are left out."""
    alpha = np.asarray(alpha, float)
    order = sorted(range(len(alpha)), key=lambda i: (-alpha[i], i))
    return [(i, float(alpha[i])) for i in order[:count] if alpha[i] > 0]


def resample(frames: np.ndarray, length: int) -> np.ndarray:
    """`length` frames picked evenly from a longer video (T >= length), first and last kept."""
    frames = np.asarray(frames)
    if len(frames) < length:
        raise ValueError(f"the video has {len(frames)} frames; the captioners read {length}, so it needs "
                         f"at least {length}")
    picks = np.linspace(0, len(frames) - 1, length).round().astype(int)
    return frames[picks]
