"""What a captioner costs on a device, measured: time, memory and parameters.

- the live captioner streams a clip frame by frame (inference.stream): its cost is the time
  per frame read, and it keeps up with a camera at `fps` frames a second when that time is
  under 1 / fps;
- the offline and per-frame captioners caption the whole clip at once (inference.describe):
  their cost is the time per clip, which comes after the clip has ended;
- the real-time factor is the time taken over the time the frames last at `fps`: under 1
  keeps up with the video, over 1 falls behind;
- peak memory is the most tensor memory held at once during one call, above what was held
  before it: CUDA's own counter on a GPU; on the CPU every tensor an operation creates is
  counted, through torch's dispatcher, until it is freed (parameters and their views are
  not: they are the parameter bytes).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from seqviz.captioning import inference
from seqviz.captioning.models import Captioner
from seqviz.core import memory, rng, timing

__all__ = ["Cost", "measure_cost", "peak_bytes", "parameter_bytes"]

FPS = 30


@dataclass(frozen=True)
class Cost:
    """One captioner's measured cost on one clip."""

    kind: str                 # "per-frame", "offline" or "live"
    device: str
    frames: int
    seconds: float            # median time of one call: a whole clip streamed (live) or captioned
    fastest: float            # the fastest call
    peak_bytes: int
    memory_source: str
    parameters: int           # every parameter, trainable or frozen
    parameter_bytes: int
    repeats: int

    @property
    def per_frame(self) -> bool:
        return self.kind == "live"

    @property
    def latency(self) -> float:
        """Seconds per frame read (live), or per clip (offline, per-frame)."""
        return self.seconds / self.frames if self.per_frame else self.seconds

    def real_time_factor(self, fps: float = FPS) -> float:
        """Time taken over the time the frames last at `fps`: a frame's 1 / fps (live), or the
        whole clip's frames / fps (offline, per-frame). Under 1 keeps up with the video."""
        return self.latency * fps if self.per_frame else self.seconds / (self.frames / fps)


def parameter_bytes(model: torch.nn.Module) -> int:
    """Bytes of a model's parameters and buffers."""
    tensors = list(model.parameters()) + list(model.buffers())
    return sum(t.numel() * t.element_size() for t in tensors)


class _TensorPeak(TorchDispatchMode):
    """Counts the bytes of every new tensor storage an operation returns (not views of its
    inputs) until the storage is freed, and keeps the largest total."""

    def __init__(self):
        super().__init__()
        self.live = 0
        self.peak = 0
        self._sizes: dict[int, int] = {}

    def _freed(self, key: int, size: int) -> None:
        self._sizes.pop(key, None)
        self.live -= size

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = {t.untyped_storage().data_ptr() for t in tree_flatten((args, kwargs))[0]
                  if isinstance(t, torch.Tensor)}
        for tensor in tree_flatten(out)[0]:
            if not isinstance(tensor, torch.Tensor):
                continue
            storage = tensor.untyped_storage()
            key, size = storage.data_ptr(), storage.nbytes()
            if size == 0 or key in inputs or key in self._sizes:
                continue
            self._sizes[key] = size
            self.live += size
            self.peak = max(self.peak, self.live)
            weakref.finalize(storage, self._freed, key, size)
        return out


def peak_bytes(fn: Callable[[], object], device: torch.device | str) -> tuple[int, str]:
    """The most tensor memory held at once while `fn()` runs, above what was held before it,
    and how it was measured."""
    device = torch.device(device)
    if device.type == "cuda":
        return memory.cuda_peak_bytes(fn, device), "torch.cuda.max_memory_allocated"
    with _TensorPeak() as tracker:
        fn()
    return tracker.peak, "tensors created during the call, counted until freed"


def measure_cost(model: Captioner, frames: np.ndarray, device: torch.device | str, *, wait_k: int = 1,
                 redecode: bool = False, repeats: int = 5, should_stop: Callable[[], bool] | None = None) -> Cost:
    """Time (median of `repeats` calls after one warm-up) and peak memory of captioning one clip
    (T, H, W, 3) with `model` on `device` (the model is copied there; the copy is dropped); the
    live model streams the clip under wait-k, or re-decoding at every frame."""
    device = torch.device(device)
    frames = np.asarray(frames)
    kind = model.config.kind
    call = one_call(model, frames, device, wait_k=wait_k, redecode=redecode)
    with torch.inference_mode():
        timed = timing.measure(call, repeats=repeats, warmup=1, device=device, should_stop=should_stop)
        peak, source = peak_bytes(call, device)
    return Cost(kind, device.type, len(frames), timed.median, timed.minimum, peak, source,
                sum(p.numel() for p in model.parameters()), parameter_bytes(model), len(timed.samples))


def one_call(model: Captioner, frames: np.ndarray, device: torch.device | str, *, wait_k: int = 1,
             redecode: bool = False) -> Callable[[], object]:
    """The call `measure_cost` times: caption the clip once (the live model streams it under
    wait-k, or re-decoding), with the model on `device`."""
    device = torch.device(device)
    frames = np.asarray(frames)
    here = model if next(model.parameters()).device == device else _copy_to(model, device)
    if model.config.kind == "live":
        return lambda: inference.stream(here, frames, wait_k=wait_k, redecode=redecode)
    return lambda: inference.describe(here, frames)


def _copy_to(model: Captioner, device: torch.device) -> Captioner:
    with rng.no_default_draws():
        copy = Captioner(model.config)
    copy.load_state_dict(model.state_dict())
    return copy.to(device).eval().requires_grad_(False)
