"""Writing captions with a trained captioner: after part of a clip, under a wait-k schedule,
frame by frame as a live stream (with revisions when re-decoding), and frame by frame for
the per-frame model.

Decoding is greedy (the most likely word each time). "Frames seen" counts frames read, so
word i (1-based) of a wait-k policy is written after min(k + i - 1, T) frames (Ma et al. 2019).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from seqviz.captioning.models import Captioner, flow_tensor, frames_tensor

__all__ = ["Decoded", "StreamStep", "frames_seen", "encode_clips", "decode", "captions", "describe",
           "caption", "per_frame_captions", "stream", "iter_stream",
           "redecode_all", "final_delays"]


@dataclass(frozen=True)
class Decoded:
    """One caption: its words, the attention alpha of each word over what the decoder attends to
    (rows: the words, then <eos> when it was written; columns: frames, or one column for the
    per-frame model's average), and how many frames had been read when each word was written."""

    words: tuple[str, ...]
    attention: np.ndarray
    seen: tuple[int, ...]

    @property
    def caption(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class StreamStep:
    """The live caption after reading frame `frame` (0-based): its words, the frame at which each
    word was written or last revised, and which word positions were written or revised now."""

    frame: int
    words: tuple[str, ...]
    stamps: tuple[int, ...]
    written: tuple[int, ...]
    revised: tuple[int, ...]

    @property
    def caption(self) -> str:
        return " ".join(self.words)


def frames_seen(total: int, fraction: float) -> int:
    """Frames read after `fraction` of a clip of `total` frames (at least one)."""
    if not 0 < fraction <= 1 or not math.isfinite(fraction):
        raise ValueError(f"fraction must be in (0, 1], not {fraction}")
    return max(1, min(total, math.ceil(round(fraction * total, 9))))


def _check(model: Captioner, frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim not in (4, 5) or frames.shape[-1] != 3:
        raise ValueError(f"frames must be uint8 (T, H, W, 3) or (B, T, H, W, 3), not {frames.dtype} {frames.shape}")
    if frames.shape[-2] != model.config.size or frames.shape[-3] != model.config.size:
        raise ValueError(f"this captioner reads {model.config.size} x {model.config.size} frames, "
                         f"not {frames.shape[-3]} x {frames.shape[-2]}")
    if frames.shape[-4] < 1:
        raise ValueError("a clip needs at least one frame")
    return frames


@torch.no_grad()
def encode_clips(model: Captioner, clips: np.ndarray, seen: int) -> torch.Tensor:
    """The memory the decoder attends over after reading the first `seen` frames of each clip
    in clips (B, T, H, W, 3): per-frame, the average of their features; offline, its encoder
    run over those frames alone; live, its causal encoder's states for those frames."""
    device = next(model.parameters()).device
    clips = clips[:, :seen]
    features = model.features(frames_tensor(clips, device),
                              flow_tensor(list(clips), device) if model.config.flow else None)
    return model.memory(features)


@torch.no_grad()
def decode(model: Captioner, memory: torch.Tensor, schedule: torch.Tensor | None = None, *,
           attention: str = "soft", seed: int = 0) -> list[Decoded]:
    """Greedy captions of a batch of memories (B, S, D). schedule (B, max_words + 1): how many
    memory rows word i may attend to (default: all); attention "soft", "argmax" or "sample"
    (frames sampled from alpha with a generator seeded by `seed`)."""
    b, s = memory.shape[:2]
    limit = model.config.max_words + 1
    if schedule is None:
        schedule = torch.full((b, limit), s)
    schedule = schedule.clamp(1, s).to(memory.device)
    generator = torch.Generator().manual_seed(seed)
    keys = model.attend.keys(memory)
    word, state = model.start(b, memory.device)
    eos = model.words.index("<eos>")
    ids, alphas = [], []
    done = torch.zeros(b, dtype=torch.bool, device=memory.device)
    for i in range(limit):
        allowed = torch.arange(s, device=memory.device)[None] < schedule[:, i:i + 1]
        logits, state, alpha = model.step(word, state, memory, keys, allowed, attention, generator)
        word = logits.argmax(-1)
        ids.append(word)
        alphas.append(alpha)
        done |= word == eos
        if bool(done.all()):
            break
    ids = torch.stack(ids, 1).cpu().numpy()
    alphas = torch.stack(alphas, 1).float().cpu().numpy()
    out = []
    for row in range(b):
        written = ids[row].tolist()
        length = min(written.index(eos) if eos in written else len(written), model.config.max_words)
        words = tuple(model.words[i] for i in written[:length])
        rows = min(length + 1, len(written))
        out.append(Decoded(words, alphas[row, :rows], tuple(int(schedule[row, i]) for i in range(length))))
    return out


def captions(model: Captioner, clips: np.ndarray, *, fraction: float = 1.0, wait_k: int | None = None,
             attention: str = "soft", seed: int = 0, batch: int = 256) -> list[Decoded]:
    """Captions of a batch of clips (B, T, H, W, 3) after reading `fraction` of each. The live
    model decodes from its causal states (the same as streaming the frames); with `wait_k` its
    word i sees only the first min(k + i - 1, seen) frames, as the wait-k policy writes it."""
    clips = _check(model, clips)
    if clips.ndim == 4:
        clips = clips[None]
    seen = frames_seen(clips.shape[1], fraction)
    if wait_k is not None and (model.config.kind != "live" or wait_k < 1):
        raise ValueError("wait-k applies to the live captioner, with k >= 1")
    out = []
    for start in range(0, len(clips), batch):
        memory = encode_clips(model, clips[start:start + batch], seen)
        schedule = None
        if wait_k is not None:
            schedule = (wait_k + torch.arange(model.config.max_words + 1))[None].expand(len(memory), -1)
        out += decode(model, memory, schedule, attention=attention, seed=seed)
    return out


def describe(model: Captioner, frames: np.ndarray, *, fraction: float = 1.0, attention: str = "soft",
             seed: int = 0) -> Decoded:
    """The caption of one clip (T, H, W, 3) with its attention, after `fraction` of it."""
    return captions(model, _check(model, frames)[None], fraction=fraction, attention=attention, seed=seed)[0]


def caption(model: Captioner, frames: np.ndarray, *, fraction: float = 1.0, attention: str = "soft") -> str:
    """The caption the model writes having seen the first `fraction` of the frames."""
    return describe(model, frames, fraction=fraction, attention=attention).caption


@torch.no_grad()
def per_frame_captions(model: Captioner, frames: np.ndarray) -> list[str]:
    """What the per-frame captioner writes for each frame on its own."""
    if model.config.kind != "per-frame":
        raise ValueError("per-frame captions come from the per-frame captioner")
    frames = _check(model, frames)
    device = next(model.parameters()).device
    features = model.features(frames_tensor(frames, device)[:, None])        # each frame a clip of one
    return [d.caption for d in decode(model, model.memory(features))]


def stream(model: Captioner, frames: np.ndarray, *, wait_k: int = 1, redecode: bool = False,
           attention: str = "soft") -> list[StreamStep]:
    """Feed the clip to the live captioner one frame at a time; one step per frame read.

    wait-k (default): word i is written once min(k + i - 1, T) frames have been read and never
    changed. redecode=True: from frame k on, the whole caption is decoded again at every frame
    from everything read so far; words that change are revisions.
    """
    return list(iter_stream(model, frames, wait_k=wait_k, redecode=redecode, attention=attention))


def iter_stream(model: Captioner, frames: np.ndarray, *, wait_k: int = 1, redecode: bool = False,
                attention: str = "soft") -> Iterator[StreamStep]:
    """stream() one step at a time: each step is computed when asked for, as its frame arrives."""
    with torch.no_grad():
        yield from _stream(model, frames, wait_k, redecode, attention)


def _stream(model: Captioner, frames: np.ndarray, wait_k: int, redecode: bool, attention: str
            ) -> Iterator[StreamStep]:
    if model.config.kind != "live":
        raise ValueError("only the live captioner streams")
    frames = _check(model, frames)
    if frames.ndim != 4:
        raise ValueError("stream one clip (T, H, W, 3)")
    if wait_k < 1:
        raise ValueError("wait-k needs k >= 1")
    device = next(model.parameters()).device
    total, eos = len(frames), model.words.index("<eos>")
    states, keys = [], []
    encoder_state, previous = None, None
    words: list[str] = []
    stamps: list[int] = []
    word, state = model.start(1, device)
    finished = False
    for j in range(total):
        feature = model.features(frames_tensor(frames[j:j + 1], device)[None])[:, 0]
        h, encoder_state = model.encode_step(feature, encoder_state, previous)
        previous = feature
        states.append(h)
        keys.append(model.attend.keys(h))
        memory, key = torch.stack(states, 1), torch.stack(keys, 1)
        allowed = torch.ones(1, j + 1, dtype=torch.bool, device=device)
        written: list[int] = []
        revised: list[int] = []
        if redecode:
            if j + 1 >= min(wait_k, total):
                step = _revise(StreamStep(j - 1, tuple(words), tuple(stamps), (), ()),
                               decode(model, memory, attention=attention)[0].words, j)
                words, stamps, written, revised = list(step.words), list(step.stamps), step.written, step.revised
        else:
            while not finished and (wait_k + len(words) <= j + 1 or j == total - 1):
                logits, state, _ = model.step(word, state, memory, key, allowed, attention)
                word = logits.argmax(-1)
                if int(word) == eos or len(words) == model.config.max_words:
                    finished = True
                    break
                written.append(len(words))
                words.append(model.words[int(word)])
                stamps.append(j)
        yield StreamStep(j, tuple(words), tuple(stamps), tuple(written), tuple(revised))


def redecode_all(model: Captioner, clips: np.ndarray, *, attention: str = "soft") -> list[list[StreamStep]]:
    """The re-decoding stream of every clip of a batch (B, T, H, W, 3), computed a frame count at
    a time over the whole batch: the same steps as stream(model, clip, redecode=True) for each."""
    if model.config.kind != "live":
        raise ValueError("only the live captioner streams")
    clips = _check(model, clips)
    total = clips.shape[1]
    streams: list[list[StreamStep]] = [[] for _ in clips]
    for j in range(total):
        for steps, decoded in zip(streams, captions(model, clips, fraction=(j + 1) / total, attention=attention)):
            old = steps[-1] if steps else StreamStep(-1, (), (), (), ())
            steps.append(_revise(old, decoded.words, j))
    return streams


def _revise(old: StreamStep, new: tuple[str, ...], frame: int) -> StreamStep:
    """The step at `frame` when the caption `old` is decoded again as `new`."""
    written = tuple(i for i in range(len(old.words), len(new)))
    revised = tuple(i for i in range(min(len(old.words), len(new))) if old.words[i] != new[i])
    stamps = tuple(old.stamps[i] if i < len(old.words) and old.words[i] == w else frame for i, w in enumerate(new))
    return StreamStep(frame, new, stamps, written, revised)


def final_delays(steps: list[StreamStep]) -> list[int]:
    """Frames read when each word of the final caption was settled, for Average Lagging: a word
    is settled once it and every word before it have stopped changing (a reader takes the caption
    in order; re-translation latency, Arivazhagan et al. 2020), so a word kept from frame 0 after
    a revised one counts from the revision, and the delays never decrease."""
    delays: list[int] = []
    for stamp in steps[-1].stamps if steps else ():
        delays.append(max(stamp + 1, delays[-1] if delays else 0))
    return delays
