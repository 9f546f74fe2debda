"""Captioning latency: the live captioner frame by frame, the offline and per-frame ones per clip, as real-time factors.

Three captioners (seqviz.captioning.experiment.load_shipped "live", "offline", "per-frame";
with --random-weights, freshly built models of the same VARIANTS configs with seeded
random weights: latency does not depend on training) caption test clips
(seqviz.captioning.data.make_clips(n, seed=0, split="test"), 24 frames each). Timed in
the same run, in interleaved rounds by seqviz.core.timing (a busy machine slows them all
alike; medians reported):

- live: seqviz.captioning.inference.stream(model, clip, wait_k=k) over the whole clip, as
  the app streams it: per frame, the CNN on that frame, one causal encoder step and the
  words the wait-k policy writes at that frame. Reported per frame (the clip's time over
  its frames) and per clip. The worst single frame comes from `timed_stream`, which takes
  stream()'s steps one at a time (inference.iter_stream) and times each; it is the median
  over the runs of each frame index, taking the slowest index, against the 33.3 ms between
  frames at 30 frames per second;
- offline: inference.describe on a whole clip (CNN on every frame, the bidirectional
  encoder, greedy decoding with temporal attention);
- per-frame: inference.describe on a whole clip (CNN on every frame, their average, greedy
  decoding);
- baseline: a plain nn.LSTMCell of the live encoder's width stepped once per frame on one
  frame's features (feature -> hidden, both 128), over as many frames as a clip has.

Each is also a real-time factor at 30 frames per second, RTF = (frames / 30 s) / time
taken (> 1: faster than real time), and a ratio to the baseline: per-frame figures against
one baseline step, per-clip figures against a clip of baseline steps. Target: the live
captioner >= 10x faster than real time on the 2-core CPU (one torch thread, as the other
CPU benchmarks). With random weights the <eos> word is never written (its output bias is
lowered), so every caption runs to max_words: the most decoding work a caption can cost,
more than a trained model's shorter captions.

On CUDA (by default when torch.cuda.is_available()) the same figures are measured on the
GPU (torch's default float32 settings, so cuDNN may use TF32 convolutions), and the GPU's
captions (the live stream and the offline describe of every clip, in full float32: see
`compare_captions`) are compared with the CPU's. Each device's block ends with one line

    captioning: live_ms_per_frame=X live_worst_frame_ms=... live_rtf=Y offline_ms_per_clip=Z offline_rtf=W
    per_frame_ms_per_clip=V per_frame_rtf=U baseline_ms_per_step=B live_vs_baseline=... ... device=cpu

(on one line; on CUDA also same_captions=matched/compared), which `parse_summary` reads.

    python -m bench.captioning [--random-weights] [--clips 4] [--rounds 5] [--wait-k 3] [--devices cpu cuda]

On a GPU machine, from the repository root: `PYTHONPATH=. python3 -m bench.captioning --devices cuda`
(bench/gpu_check.sh runs it with small sizes among its checks).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
import re
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from seqviz.captioning import experiment, inference
from seqviz.captioning.data import make_clips
from seqviz.captioning.inference import StreamStep
from seqviz.captioning.models import Captioner, build
from seqviz.core import checkpoints, rng, timing
from seqviz.core import device as devices

FPS = 30.0
TARGET_RTF = 10.0                  # the live captioner on the 2-core CPU
KINDS = ("live", "offline", "per-frame")
WEIGHTS_SEED = 0
SUMMARY_PREFIX = "captioning: "
SUMMARY_FIELD = re.compile(r"(\w+)=(\S+)")
TEXT_FIELDS = {"device", "weights", "same_captions"}


def rtf(frames: int, seconds: float) -> float:
    """Real-time factor at FPS: (frames / FPS seconds of video) / seconds taken."""
    return frames / FPS / seconds


def missing_checkpoints(directory: Path = checkpoints.MODELS_DIR) -> list[Path]:
    """The shipped captioners' files (seed 0) that are not in `directory`."""
    paths = [experiment.frames_path(0, directory)] + [experiment.checkpoint_path(experiment.SHIPPED[kind], 0, directory)
                                                       for kind in KINDS]
    return [path for path in paths if not path.exists()]


def load_models(random_weights: bool) -> dict[str, Captioner]:
    """The three captioners on the CPU in eval mode: shipped, or built from VARIANTS with
    weights drawn from a generator seeded with WEIGHTS_SEED."""
    if random_weights:
        return {kind: _never_ending(build(experiment.VARIANTS[experiment.SHIPPED[kind]], WEIGHTS_SEED).eval())
                for kind in KINDS}
    return {kind: experiment.load_shipped(kind) for kind in KINDS}


@torch.no_grad()
def _never_ending(model: Captioner) -> Captioner:
    """Random weights write <eos> after any number of words; with its output bias lowered the
    model never writes it, so every caption runs to max_words: the most decoding work a
    caption can cost, the same whatever the draw."""
    model.out.bias[model.words.index("<eos>")] = -1e4
    return model


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_stream(model: Captioner, frames: np.ndarray, wait_k: int) -> tuple[list[StreamStep], list[float]]:
    """inference.stream(model, frames, wait_k=wait_k), one step at a time (iter_stream), with the
    seconds of each frame's work: (the steps, seconds per frame). Frame 0 also counts the
    decoder's start."""
    device = next(model.parameters()).device
    steps, seconds = [], []
    _sync(device)
    began = time.perf_counter()
    for step in inference.iter_stream(model, frames, wait_k=wait_k):
        _sync(device)
        now = time.perf_counter()
        steps.append(step)
        seconds.append(now - began)
        began = now
    return steps, seconds


def baseline_cell(model: Captioner, device: torch.device) -> tuple[nn.LSTMCell, torch.Tensor]:
    """A plain LSTM cell of the live encoder's width (seeded weights) and one frame's features
    (1, 1, feature) to step it on, once a frame (run_baseline)."""
    config = model.config
    cell = rng.init_parameters(nn.LSTMCell(config.feature, config.hidden), rng.torch_generator(WEIGHTS_SEED))
    return cell.to(device).eval(), torch.rand(1, 1, config.feature, generator=rng.torch_generator(1)).to(device)


@torch.no_grad()
def run_baseline(cell: nn.LSTMCell, feature: torch.Tensor, frames: int) -> None:
    state = None
    for _ in range(frames):
        state = cell(feature[0], state)


def measure(models: dict[str, Captioner], clips: list[np.ndarray], wait_k: int, rounds: int,
            device: torch.device) -> dict[str, float | list]:
    """Median seconds per clip of each captioner and of the baseline (a clip of steps), the
    median seconds of each frame index of the live stream, and the steps the loops wrote."""
    frames = len(clips[0])
    cell, feature = baseline_cell(models["live"], device)
    per_frame_seconds: list[list[float]] = []
    found: dict[str, list] = {"stream": [], "timed": [], "offline_captions": [], "per_frame_captions": []}

    def live():
        found["stream"] = [inference.stream(models["live"], clip, wait_k=wait_k) for clip in clips]

    def live_frames():
        runs = [timed_stream(models["live"], clip, wait_k) for clip in clips]
        found["timed"] = [steps for steps, _ in runs]
        per_frame_seconds.extend(seconds for _, seconds in runs)

    def offline():
        found["offline_captions"] = [inference.describe(models["offline"], clip).caption for clip in clips]

    def per_frame():
        found["per_frame_captions"] = [inference.describe(models["per-frame"], clip).caption for clip in clips]

    fns = {"baseline": lambda: run_baseline(cell, feature, frames), "live": live, "live_frames": live_frames,
           "offline": offline, "per-frame": per_frame}
    for fn in fns.values():       # warm-up: the first calls pay for allocation and lazy initialisation
        fn()
    per_frame_seconds.clear()
    times = timing.interleaved(fns, rounds=rounds, warmup=0, device=device)
    by_index = np.median(np.array(per_frame_seconds), axis=0)           # (frames,): each frame index's median
    return {"baseline": times["baseline"].median, "live": times["live"].median / len(clips),
            "live_frames": times["live_frames"].median / len(clips),
            "offline": times["offline"].median / len(clips), "per-frame": times["per-frame"].median / len(clips),
            "by_index": by_index.tolist(), "slowest_seen": float(np.max(per_frame_seconds)), **found}


def report(result: dict, frames: int, clips: int, wait_k: int, rounds: int, weights: str, device: torch.device,
           same_captions: str | None, out=print) -> dict[str, float | str]:
    """Print the device's lines and its summary line; return the summary's fields."""
    base_step = result["baseline"] / frames
    live_frame = result["live"] / frames
    by_index = result["by_index"]
    worst_index = int(np.argmax(by_index))
    worst = by_index[worst_index]
    words = [len(steps[-1].words) for steps in result["stream"]]
    wrote = len(result["stream"][0][worst_index].written)
    same = all(a == b for a, b in zip(result["stream"], result["timed"]))
    out(f"{device.type:4s} baseline: nn.LSTMCell {frames} steps (one a frame)  {base_step * 1e3:8.4f} ms a step  "
        f"{result['baseline'] * 1e3:8.3f} ms a clip")
    verdict = (f"  target RTF >= {TARGET_RTF:.0f}: {'met' if rtf(frames, result['live']) >= TARGET_RTF else 'MISSED'}"
               if device.type == "cpu" else "")
    out(f"{device.type:4s} live wait-{wait_k} stream()           {live_frame * 1e3:8.3f} ms a frame "
        f"{result['live'] * 1e3:8.2f} ms a clip  RTF {rtf(frames, result['live']):8.1f}  "
        f"x{live_frame / base_step:6.1f} baseline step{verdict}")
    out(f"{device.type:4s} live, each frame timed        {result['live_frames'] / frames * 1e3:8.3f} ms a frame "
        f"(stream()'s loop, {'the same' if same else 'NOT the same'} steps); worst frame {worst * 1e3:.3f} ms "
        f"(frame {worst_index}, {wrote} word(s) written; median of {len(result['timed']) * rounds} runs) = "
        f"{worst * FPS:.3f} of the {1e3 / FPS:.1f} ms between frames; slowest single frame seen "
        f"{result['slowest_seen'] * 1e3:.3f} ms")
    for kind, label in (("offline", "offline describe()"), ("per-frame", "per-frame describe()")):
        out(f"{device.type:4s} {label:<29s} {result[kind] * 1e3:8.2f} ms a clip  RTF {rtf(frames, result[kind]):8.1f}  "
            f"x{result[kind] / result['baseline']:6.1f} baseline clip")
    out(f"{device.type:4s} captions of clip 0: live ({words[0]} words; {np.mean(words):.1f} a clip on average) "
        f"{result['stream'][0][-1].caption!r}; offline {result['offline_captions'][0]!r}; "
        f"per-frame {result['per_frame_captions'][0]!r}")
    summary = {"live_ms_per_frame": live_frame * 1e3, "live_worst_frame_ms": worst * 1e3,
               "live_rtf": rtf(frames, result["live"]), "offline_ms_per_clip": result["offline"] * 1e3,
               "offline_rtf": rtf(frames, result["offline"]), "per_frame_ms_per_clip": result["per-frame"] * 1e3,
               "per_frame_rtf": rtf(frames, result["per-frame"]), "baseline_ms_per_step": base_step * 1e3,
               "live_vs_baseline": live_frame / base_step,
               "offline_vs_baseline": result["offline"] / result["baseline"],
               "per_frame_vs_baseline": result["per-frame"] / result["baseline"],
               "frames": frames, "clips": clips, "wait_k": wait_k, "weights": weights, "device": device.type}
    if same_captions is not None:
        summary["same_captions"] = same_captions
    out(SUMMARY_PREFIX + " ".join(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}"
                                  for key, value in summary.items()))
    return summary


def parse_summary(line: str) -> dict[str, float | str]:
    """The fields of a summary line: numbers as floats, device, weights and same_captions as text."""
    if not line.startswith(SUMMARY_PREFIX):
        raise ValueError(f"not a captioning summary line: {line!r}")
    return {key: value if key in TEXT_FIELDS else float(value)
            for key, value in SUMMARY_FIELD.findall(line[len(SUMMARY_PREFIX):])}


@contextlib.contextmanager
def full_float32():
    """cuDNN convolutions and matmuls in full float32 (no TF32) for the duration; the settings
    are restored afterwards."""
    conv, matmul = torch.backends.cudnn.allow_tf32, torch.get_float32_matmul_precision()
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32 = conv
        torch.set_float32_matmul_precision(matmul)


def compare_captions(models: dict[str, Captioner], gpu_models: dict[str, Captioner], clips: list[np.ndarray],
                     wait_k: int) -> tuple[int, int]:
    """(matched, compared): the live stream's final caption and the offline describe of every
    clip, on the GPU against the CPU. The GPU runs in full float32 here: cuDNN's default TF32
    convolutions change the features by ~1e-3, enough to flip a near tie between two words of
    a random-weight model (a different caption from a right path); in full float32 a different
    caption means a wrong path."""
    pairs = []
    with full_float32():
        for clip in clips:
            pairs.append((inference.stream(models["live"], clip, wait_k=wait_k)[-1].caption,
                          inference.stream(gpu_models["live"], clip, wait_k=wait_k)[-1].caption))
            pairs.append((inference.describe(models["offline"], clip).caption,
                          inference.describe(gpu_models["offline"], clip).caption))
    return sum(cpu == gpu for cpu, gpu in pairs), len(pairs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random-weights", action="store_true", help="freshly built models of the VARIANTS "
                        "configs with seeded random weights instead of the shipped checkpoints")
    parser.add_argument("--clips", type=int, default=4, help="test clips captioned in each round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--wait-k", type=int, default=3)
    parser.add_argument("--devices", nargs="+", choices=["cpu", "cuda"], default=None,
                        help="default: cpu, and cuda when it is available")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (1 avoids oversubscription on a "
                        "small shared machine)")
    args = parser.parse_args(argv)
    if min(args.clips, args.rounds, args.wait_k, args.threads) < 1:
        parser.error("--clips, --rounds, --wait-k and --threads must be at least 1")
    names = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    if "cuda" in names and not torch.cuda.is_available():
        parser.error(f"--devices cuda, but {devices.gpu_unavailable_reason() or 'CUDA is not available'}")
    missing = [] if args.random_weights else missing_checkpoints()
    if missing:
        parser.error(f"no shipped captioner at {', '.join(str(p) for p in missing)}; train them "
                     "(python -m seqviz.captioning.experiment) or pass --random-weights")
    torch.set_num_threads(args.threads)
    models = load_models(args.random_weights)
    weights = "random" if args.random_weights else "shipped"
    clips = [clip.frames for clip in make_clips(args.clips, seed=0, split="test")]
    frames = len(clips[0])
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          f"{torch.get_num_threads()} torch thread(s); {args.clips} test clip(s) of {frames} frames at "
          f"{FPS:.0f} frames per second ({frames / FPS * 1e3:.0f} ms of video); live wait-{args.wait_k}; "
          f"{args.rounds} interleaved rounds after a warm-up, medians", flush=True)
    if args.random_weights:
        print(f"weights: random (built from the VARIANTS configs, seed {WEIGHTS_SEED}; latency does not depend "
              "on training; <eos> is never written, so every caption runs to max_words: the most "
              "decoding work a caption can cost)", flush=True)
    else:
        print("weights: shipped (experiment.load_shipped, seed 0)", flush=True)
    for name in names:
        device = torch.device(name)
        if device.type == "cuda":
            print(f"cuda {devices.describe(device).name}", flush=True)
        on_device = {kind: copy.deepcopy(model).to(device) for kind, model in models.items()}
        result = measure(on_device, clips, args.wait_k, args.rounds, device)
        same = None
        if device.type != "cpu":
            matched, compared = compare_captions(models, on_device, clips, args.wait_k)
            same = f"{matched}/{compared}"
            print(f"{device.type:4s} captions against the CPU's (live stream and offline describe of each clip, "
                  f"in full float32): {matched} of {compared} the same", flush=True)
        report(result, frames, args.clips, args.wait_k, args.rounds, weights, device, same,
               out=lambda line: print(line, flush=True))


if __name__ == "__main__":
    main()
