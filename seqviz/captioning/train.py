"""Training the captioners on captioned clips (teacher forcing, cross-entropy on the words).

What a word may attend to while training is what it will see when used:
- offline: every frame;
- live: either a wait-k schedule (word i sees the first min(k + i - 1, T) frames) with k drawn
  from 1..T for each clip, or a prefix of j frames for all of its words (what re-decoding at
  frame j sees), so that one model serves every k and both policies;
- per-frame: the average of a random subset of the frames (1 to T of them), so that it
  captions one frame as well as the average of all of them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch.nn import functional as F

from seqviz.captioning.data import Clip, encode, frame_labels, iter_clips, vocabulary
from seqviz.captioning.models import Captioner, flow_tensor, frames_tensor
from seqviz.core import rng
from seqviz.core.train import Progress, train_loop

__all__ = ["FrameSettings", "TrainSettings", "Batch", "pretrain_frames", "prepare", "wait_k_allowed",
           "make_step", "training_data", "train"]


@dataclass(frozen=True)
class FrameSettings:
    """Training the frame CNN on single frames (which shapes are where, how big, turned how).
    Every step reads `clips` clips it has not read before and `frames` frames of each, so the
    CNN never sees a frame twice. (Trained on 3 000 clips over and over, an earlier, smaller CNN
    learnt them by heart: it found 98 % of the shapes in their frames and 85 % in new clips.)"""

    steps: int = 4000
    clips: int = 64                 # new clips a step
    frames: int = 4                 # frames of each
    lr: float = 3e-3


@dataclass(frozen=True)
class TrainSettings:
    steps: int = 2000
    batch: int = 64
    lr: float = 3e-3
    clip_norm: float = 1.0
    train_clips: int = 40000
    data_seed: int = 0              # which training clips (the split "train" of this seed)
    seed: int = 0                   # initial weights and the order of batches
    frames: FrameSettings = FrameSettings()


def pretrain_frames(model: Captioner, clips: Iterable[Clip], settings: FrameSettings, seed: int) -> list[float]:
    """Train the captioner's frame CNN alone to read single frames: for every colour-shape slot,
    whether it is visible (cross-entropy) and its place, size and angle (squared error, where
    visible). Each step takes the next settings.clips clips of `clips` (an iterator of new clips,
    or a list gone round again and again) and settings.frames random frames of each. Then
    freeze it. Returns the losses."""
    encoder = model.frames
    parameters = [*encoder.conv.parameters(), *encoder.appearance.parameters(), *encoder.slots.parameters()]
    optimiser = torch.optim.AdamW(parameters, lr=settings.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, settings.lr, total_steps=max(20, settings.steps),
                                                   pct_start=0.1)
    generator = np.random.default_rng(seed + 3)
    source = clips if isinstance(clips, Iterator) else itertools.cycle(list(clips))
    losses = []
    for step in range(settings.steps):
        part = list(itertools.islice(source, settings.clips))
        if not part:
            raise ValueError("no clips to train the frame CNN on")
        picks = [generator.choice(len(clip.frames), min(settings.frames, len(clip.frames)), replace=False)
                 for clip in part]
        x = frames_tensor(np.concatenate([clip.frames[pick] for clip, pick in zip(part, picks)]))
        target = torch.as_tensor(np.concatenate([frame_labels(clip)[pick] for clip, pick in zip(part, picks)]))
        out = encoder.read_slots(torch.relu(encoder.appearance(encoder.conv(x))))
        visible = target[..., 0]
        loss = F.binary_cross_entropy_with_logits(out[..., 0], visible) + (
            ((out[..., 1:] - target[..., 1:]) ** 2).sum(-1) * visible).sum() / visible.sum().clamp_min(1)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        if step + 1 < settings.steps:
            schedule.step()
        losses.append(float(loss.detach()))
    optimiser.zero_grad(set_to_none=True)
    for part in (encoder.conv, encoder.appearance, encoder.slots):
        part.requires_grad_(False)
    return losses


@dataclass
class Batch:
    """Clips ready for training the captioner: the fixed CNN's appearance features
    (N, T, feature), optical flow or None, words (N, L + 1) padded with <pad> (index 0)."""

    appearance: torch.Tensor
    flow: torch.Tensor | None
    words: torch.Tensor


@torch.no_grad()
def prepare(model: Captioner, clips: Iterable[Clip], chunk: int = 500) -> Batch:
    """The fixed CNN's features (and flow) of every clip, a chunk of clips at a time, so that the
    frames of a large set are never all held at once."""
    ids, appearance, flow = [], [], []
    clips = iter(clips)
    while part := list(itertools.islice(clips, chunk)):
        ids += [encode(clip.caption) for clip in part]
        frames = np.stack([clip.frames for clip in part])
        appearance.append(torch.cat([model.frames.look(frames_tensor(frames[i:i + 256]))
                                     for i in range(0, len(frames), 256)]))
        if model.config.flow:
            flow.append(flow_tensor(list(frames)))
    if not ids:
        raise ValueError("no clips to train on")
    words = torch.zeros(len(ids), max(map(len, ids)), dtype=torch.long)
    for row, sequence in enumerate(ids):
        words[row, :len(sequence)] = torch.tensor(sequence)
    return Batch(torch.cat(appearance), torch.cat(flow) if flow else None, words)


def wait_k_allowed(k: torch.Tensor, words: int, frames: int) -> torch.Tensor:
    """allowed (B, words, frames): word i (0-based) sees the first min(k + i, frames) frames."""
    seen = (k[:, None] + torch.arange(words)[None]).clamp(max=frames)
    return torch.arange(frames)[None, None] < seen[:, :, None]


def _allowed(model: Captioner, b: int, words: int, frames: int, generator: torch.Generator):
    """What each word may attend to in a training batch, and which frames the per-frame model averages."""
    kind = model.config.kind
    if kind == "offline":
        return torch.ones(b, words, frames, dtype=torch.bool), None
    if kind == "per-frame":
        count = torch.randint(1, frames + 1, (b,), generator=generator)
        order = torch.rand(b, frames, generator=generator).argsort(1)
        keep = torch.zeros(b, frames, dtype=torch.bool).scatter_(1, order, torch.arange(frames)[None] < count[:, None])
        return torch.ones(b, words, 1, dtype=torch.bool), keep
    k = torch.randint(1, frames + 1, (b,), generator=generator)
    schedule = wait_k_allowed(k, words, frames)
    prefix = torch.arange(frames)[None, None] < k[:, None, None]            # all words see k frames
    redecode = torch.rand(b, generator=generator) < 0.5
    return torch.where(redecode[:, None, None], prefix.expand(b, words, frames), schedule), None


def make_step(model: Captioner, data: Batch, settings: TrainSettings) -> Callable[[int], dict[str, float]]:
    generator = rng.torch_generator(settings.seed + 1)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=settings.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, settings.lr, total_steps=max(20, settings.steps),
                                                   pct_start=0.1)
    n, frames = data.appearance.shape[:2]
    pad = vocabulary().index("<pad>")

    def step(_: int) -> dict[str, float]:
        model.train()
        index = torch.randint(0, n, (min(settings.batch, n),), generator=generator)
        words = data.words[index]
        words_in, target = words[:, :-1], words[:, 1:]
        allowed, keep = _allowed(model, len(index), words_in.shape[1], frames, generator)
        features = model.frames.combine(data.appearance[index], None if data.flow is None else data.flow[index])
        logits, _ = model(model.memory(features, keep), words_in, allowed)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=pad)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, settings.clip_norm)
        optimiser.step()
        if schedule.last_epoch + 1 < settings.steps:
            schedule.step()
        with torch.no_grad():
            mask = target != pad
            accuracy = ((logits.argmax(-1) == target) & mask).sum() / mask.sum()
        return {"loss": float(loss.detach()), "word_accuracy": float(accuracy)}

    return step


def training_data(model: Captioner, settings: TrainSettings, clips: list[Clip] | None = None) -> Batch:
    """Train the model's frame CNN on single frames (unless it is already fixed), then read the
    training clips through it: `clips`, or settings.train_clips clips of the training split of
    settings.data_seed. The CNN reads frames of `clips`, or of new clips of that split."""
    size = model.config.size
    if any(p.requires_grad for p in model.frames.conv.parameters()):
        frames = settings.frames
        pretrain_frames(model, clips if clips is not None else iter_clips(
            frames.steps * frames.clips, seed=settings.data_seed, split="train", size=size), frames, settings.seed)
    return prepare(model, clips if clips is not None else iter_clips(
        settings.train_clips, seed=settings.data_seed, split="train", size=size))


def train(model: Captioner, settings: TrainSettings = TrainSettings(), *, clips: list[Clip] | None = None,
          data: Batch | None = None, on_progress: Callable[[Progress], None] | None = None,
          should_stop: Callable[[], bool] | None = None, report_every: int = 50) -> list[dict[str, float]]:
    """Train `model` in place on training_data(model, settings, clips), or on `data` already read
    by its fixed frame CNN. Returns the captioner's history of loss and word accuracy."""
    if data is None:
        data = training_data(model, settings, clips)
    if not model.input_fitted:
        model.fit_input_scaling(data.appearance)
    step = make_step(model, data, replace(settings))
    history = train_loop(step, settings.steps, on_progress=on_progress, should_stop=should_stop,
                         report_every=report_every)
    model.eval()
    return history
