"""Three video captioners built from the same parts: a small CNN per frame, a caption decoder
(an LSTM that writes one word at a time), and between them what each model keeps of the clip.

- *per-frame*: no sequence model. Each frame's CNN features are averaged over the frames
  seen, and the decoder writes from that average. An average is the same for any order of
  the frames, so this model cannot see motion or the order of events; applied to one frame
  it writes that frame's caption.
- *offline* (S2VT-style): an LSTM encoder runs over every frame of the clip (optionally in
  both directions), and the decoder attends over the encoder's states while it writes:
  at word t it scores every frame i against its previous state, e_ti = f_att(s_{t-1}, h_i),
  takes alpha_t = softmax_i(e_t) and reads c_t = sum_i alpha_ti h_i. Scoring is additive
  (Bahdanau: v^T tanh(W s + U h)) or multiplicative (Luong: s^T W h). An optional second
  stream adds dense optical flow between consecutive frames (OpenCV's Farneback).
- *live*: the same decoder over a causal, one-direction encoder, so the state at frame j
  depends on frames up to j only; which frames a word may attend to is set by the decoding
  policy (wait-k, or re-decoding at every frame), see inference.py.

Attention at inference is soft (the weighted average), or hard: the single frame with the
largest weight ("argmax") or one frame sampled from alpha_t ("sample").
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from seqviz.captioning.data import SUBJECTS, vocabulary
from seqviz.core import rng

__all__ = ["KINDS", "SCORINGS", "ATTENTION_MODES", "FLOW_GRID", "CaptionerConfig", "Captioner", "build",
           "parameter_count", "frames_tensor", "flow_features", "flow_tensor"]

KINDS = ("per-frame", "offline", "live")
SCORINGS = ("additive", "multiplicative")
ATTENTION_MODES = ("soft", "argmax", "sample")
FLOW_GRID = 8                       # the flow field is averaged down to FLOW_GRID x FLOW_GRID cells


@dataclass(frozen=True)
class CaptionerConfig:
    kind: str = "offline"
    size: int = 32                  # frame width and height in pixels
    feature: int = 128              # CNN features per frame
    hidden: int = 128               # LSTM units (encoder per direction, and decoder)
    embed: int = 32                 # word embedding width
    attention: int = 64             # width of the additive scorer
    scoring: str = "additive"
    bidirectional: bool = False     # offline only
    flow: bool = False              # optical-flow stream (offline only)
    deltas: bool = True             # the encoder also reads each frame's change since the previous one
    max_words: int = 24             # the longest caption the decoder writes

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.scoring not in SCORINGS:
            raise ValueError(f"scoring must be one of {', '.join(SCORINGS)}, not {self.scoring!r}")
        if self.kind != "offline" and (self.bidirectional or self.flow):
            raise ValueError("only the offline captioner reads the clip in both directions or adds optical flow")
        if self.kind == "per-frame":              # it sees no order, so no change between frames
            object.__setattr__(self, "deltas", False)
        if not 32 <= self.size <= 64:
            raise ValueError(f"frames are 32 to 64 pixels wide, not {self.size}")

    @property
    def memory(self) -> int:
        """Width of what the decoder attends over (one vector per frame, or the average)."""
        if self.kind == "per-frame":
            return self.feature + len(SUBJECTS) * 5
        return self.hidden * (2 if self.bidirectional else 1)


def frames_tensor(frames: np.ndarray | torch.Tensor, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 (..., T, H, W, 3) -> float (..., T, 3, H, W) in [0, 1]."""
    if isinstance(frames, torch.Tensor):
        x = frames.to(device)
    else:
        x = torch.as_tensor(np.ascontiguousarray(frames), device=device)
    return x.movedim(-1, -3).float() / 255.0


def flow_features(frames: np.ndarray) -> np.ndarray:
    """Dense optical flow (Farneback) from each frame to the next, averaged down to
    FLOW_GRID x FLOW_GRID: float32 (T, 2, FLOW_GRID, FLOW_GRID) in pixels per frame,
    zero for the first frame (it has no predecessor)."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be (T, H, W, 3), not {frames.shape}")
    grey = [cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in frames]
    out = np.zeros((len(frames), 2, FLOW_GRID, FLOW_GRID), np.float32)
    for t in range(1, len(frames)):
        flow = cv2.calcOpticalFlowFarneback(grey[t - 1], grey[t], None, 0.5, 2, 9, 3, 5, 1.1, 0)
        out[t] = cv2.resize(flow, (FLOW_GRID, FLOW_GRID), interpolation=cv2.INTER_AREA).transpose(2, 0, 1)
    return out


def flow_tensor(clips: list[np.ndarray], device: torch.device | str = "cpu") -> torch.Tensor:
    """flow_features of each clip, stacked: float (B, T, 2, FLOW_GRID, FLOW_GRID)."""
    return torch.as_tensor(np.stack([flow_features(frames) for frames in clips]), device=device)


class FrameEncoder(nn.Module):
    """A small CNN per frame (four 3 x 3 convolutions, two of them of stride 2, pooled to an
    8 x 8 grid so that where things are survives), trained first on single frames to say which
    shapes are where (see train.pretrain_frames) and then kept fixed, as S2VT keeps its image
    CNN; optionally a flow stream beside it, trained with the captioner."""

    def __init__(self, feature: int, flow: bool):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(3, 32, 3, 1, 1), nn.ReLU(), nn.Conv2d(32, 32, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, 1, 1), nn.ReLU(), nn.Conv2d(64, 64, 3, 2, 1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(8), nn.Flatten())
        self.appearance = nn.Linear(64 * 64, feature)
        self.slots = nn.Linear(feature, len(SUBJECTS) * 5)         # what the frame shows, slot by slot
        self.width = feature + len(SUBJECTS) * 5                    # what look() gives per frame
        self.motion = nn.Linear(2 * FLOW_GRID * FLOW_GRID, feature // 2) if flow else None
        self.combined = self.width + (feature // 2 if flow else 0)  # what combine() gives per frame

    def read_slots(self, features: torch.Tensor) -> torch.Tensor:
        """The slot read-out of appearance features: (..., SUBJECTS, 5) logits of visible, then
        x, y, size and angle (see data.frame_labels)."""
        return self.slots(features).reshape(*features.shape[:-1], len(SUBJECTS), 5)

    def look(self, frames: torch.Tensor) -> torch.Tensor:
        """Per-frame features of frames (B, T, 3, H, W) -> (B, T, width), each frame alone: the
        CNN's features and its read-out of which shape is where (visible as a probability)."""
        b, t = frames.shape[:2]
        x = F.relu(self.appearance(self.conv(frames.reshape(b * t, *frames.shape[2:])))).reshape(b, t, -1)
        slots = self.read_slots(x)
        slots = torch.cat([torch.sigmoid(slots[..., :1]), slots[..., 1:]], -1)
        return torch.cat([x, slots.reshape(b, t, -1)], -1)

    def combine(self, appearance: torch.Tensor, flow: torch.Tensor | None = None) -> torch.Tensor:
        """Appearance features, followed by the flow stream's features when the model has one."""
        if self.motion is None:
            return appearance
        if flow is None:
            raise ValueError("this captioner reads optical flow: pass flow (B, T, 2, grid, grid)")
        return torch.cat([appearance, F.relu(self.motion(flow.reshape(*appearance.shape[:2], -1)))], -1)

    def forward(self, frames: torch.Tensor, flow: torch.Tensor | None = None) -> torch.Tensor:
        """frames (B, T, 3, H, W) -> features (B, T, feature)."""
        return self.combine(self.look(frames), flow)


class TemporalAttention(nn.Module):
    """Scores e_i = f_att(s, h_i) of a decoder state s against every memory vector h_i."""

    def __init__(self, scoring: str, query: int, key: int, width: int):
        super().__init__()
        self.scoring = scoring
        if scoring == "additive":               # v^T tanh(W s + U h)
            self.w = nn.Linear(query, width, bias=False)
            self.u = nn.Linear(key, width)
            self.v = nn.Linear(width, 1, bias=False)
        else:                                    # s^T W h
            self.w = nn.Linear(key, query, bias=False)

    def keys(self, memory: torch.Tensor) -> torch.Tensor:
        """The part of the score that depends on the memory alone, computed once per clip."""
        return self.u(memory) if self.scoring == "additive" else self.w(memory)

    def scores(self, state: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """state (B, Q), keys (B, S, .) -> scores (B, S)."""
        if self.scoring == "additive":
            return self.v(torch.tanh(self.w(state)[:, None] + keys)).squeeze(-1)
        return (keys @ state[:, :, None]).squeeze(-1)


class Captioner(nn.Module):
    def __init__(self, config: CaptionerConfig):
        super().__init__()
        self.config = config
        self.words = vocabulary()
        self.frames = FrameEncoder(config.feature, config.flow)
        width = self.frames.combined * (2 if config.deltas else 1)    # what the encoder reads per frame
        self.encoder = None if config.kind == "per-frame" else nn.LSTM(
            width, config.hidden, batch_first=True, bidirectional=config.bidirectional)
        # Each input of the encoder (or of the per-frame average) is standardised with the mean and
        # spread it has over the training clips (set once, by fit_input_scaling): the CNN's slot
        # read-out and its small changes from frame to frame would otherwise be drowned by the
        # larger appearance features. The flow stream is learnt with the captioner and left as it is.
        self.register_buffer("input_mean", torch.zeros(width))
        self.register_buffer("input_scale", torch.ones(width))
        self.register_buffer("input_fitted", torch.tensor(False))
        self.embed = nn.Embedding(len(self.words), config.embed)
        self.cell = nn.LSTMCell(config.embed + config.memory, config.hidden)
        self.attend = TemporalAttention(config.scoring, config.hidden, config.memory, config.attention)
        self.out = nn.Linear(config.hidden + config.memory, len(self.words))

    # -- encoding -------------------------------------------------------------------------
    def features(self, frames: torch.Tensor, flow: torch.Tensor | None = None) -> torch.Tensor:
        return self.frames(frames, flow)

    def _unscaled_input(self, features: torch.Tensor, previous: torch.Tensor | None = None) -> torch.Tensor:
        if not self.config.deltas:
            return features
        before = torch.cat([features[..., :1, :] if previous is None else previous[..., None, :],
                            features[..., :-1, :]], -2)
        return torch.cat([features, features - before], -1)

    def encoder_input(self, features: torch.Tensor, previous: torch.Tensor | None = None) -> torch.Tensor:
        """What the encoder reads: each frame's features (..., T, combined), with their change
        since the previous frame when the model reads deltas (the first frame's change is zero,
        or taken from `previous`, the frame before, when given), standardised."""
        return (self._unscaled_input(features, previous) - self.input_mean) / self.input_scale

    @torch.no_grad()
    def fit_input_scaling(self, appearance: torch.Tensor) -> None:
        """Set the standardisation of the encoder's inputs from the training clips' appearance
        features (N, T, width): each input's mean and standard deviation (at least 0.01).
        The flow stream's inputs keep mean 0 and scale 1."""
        flow = self.frames.combined - self.frames.width
        features = torch.cat([appearance, appearance.new_zeros(*appearance.shape[:-1], flow)], -1)
        x = self._unscaled_input(features).reshape(-1, self.input_mean.numel())
        learnt = torch.zeros(self.frames.combined, dtype=torch.bool)
        learnt[self.frames.width:] = True
        learnt = learnt.repeat(2 if self.config.deltas else 1)
        self.input_mean.copy_(torch.where(learnt, 0.0, x.mean(0)))
        self.input_scale.copy_(torch.where(learnt, 1.0, x.std(0).clamp_min(0.01)))
        self.input_fitted.fill_(True)

    def memory(self, features: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        """What the decoder attends over: (B, T, memory) encoder states, or for the per-frame
        model (B, 1, feature), the average of the features of the frames `keep` (B, T) marks."""
        features = self.encoder_input(features)
        if self.encoder is None:
            if keep is None:
                return features.mean(1, keepdim=True)
            weights = keep.float() / keep.float().sum(1, keepdim=True).clamp_min(1)
            return (weights[:, :, None] * features).sum(1, keepdim=True)
        return self.encoder(features)[0]

    def encode_step(self, feature: torch.Tensor, state=None, previous: torch.Tensor | None = None):
        """One frame into the causal encoder (live model): feature (B, width), and the previous
        frame's feature (None for the first frame) -> (state vector (B, memory), new LSTM state)."""
        if self.config.kind != "live":
            raise ValueError("only the live captioner encodes frame by frame")
        out, state = self.encoder(self.encoder_input(feature[:, None], previous), state)
        return out[:, 0], state

    # -- decoding -------------------------------------------------------------------------
    def start(self, batch: int, device) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """The first input word (<bos>) and the decoder's zero state."""
        zeros = torch.zeros(batch, self.config.hidden, device=device)
        return torch.full((batch,), self.words.index("<bos>"), dtype=torch.long, device=device), (zeros, zeros)

    def step(self, word: torch.Tensor, state, memory: torch.Tensor, keys: torch.Tensor, allowed: torch.Tensor,
             mode: str = "soft", generator: torch.Generator | None = None):
        """Write one word. allowed (B, S) marks the memory the word may attend to (at least
        one per row). Returns logits (B, V), the new state, and alpha (B, S)."""
        h, c = state
        scores = self.attend.scores(h, keys).masked_fill(~allowed, float("-inf"))
        alpha = torch.softmax(scores, -1)
        if mode == "soft":
            weights = alpha
        elif mode == "argmax":
            weights = F.one_hot(alpha.argmax(-1), alpha.shape[-1]).to(alpha.dtype)
        elif mode == "sample":
            pick = torch.multinomial(alpha.detach().cpu(), 1, generator=generator)[:, 0].to(alpha.device)
            weights = F.one_hot(pick, alpha.shape[-1]).to(alpha.dtype)
        else:
            raise ValueError(f"attention must be one of {', '.join(ATTENTION_MODES)}, not {mode!r}")
        context = (weights[:, :, None] * memory).sum(1)
        h, c = self.cell(torch.cat([self.embed(word), context], -1), (h, c))
        return self.out(torch.cat([h, context], -1)), (h, c), alpha

    def forward(self, memory: torch.Tensor, words_in: torch.Tensor, allowed: torch.Tensor):
        """Teacher forcing: words_in (B, L) (starting with <bos>), allowed (B, L, S) ->
        logits (B, L, V), alphas (B, L, S)."""
        keys = self.attend.keys(memory)
        _, state = self.start(len(words_in), memory.device)
        logits, alphas = [], []
        for i in range(words_in.shape[1]):
            out, state, alpha = self.step(words_in[:, i], state, memory, keys, allowed[:, i])
            logits.append(out)
            alphas.append(alpha)
        return torch.stack(logits, 1), torch.stack(alphas, 1)


def build(config: CaptionerConfig, seed: int) -> Captioner:
    """A new captioner whose every parameter is drawn from a generator seeded with `seed`."""
    with rng.no_default_draws():
        model = Captioner(config)
    rng.init_parameters(model, rng.torch_generator(seed))
    return model


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
