"""Every CUDA path of seqviz, one line per check: PASS / FAIL / SKIP, its seconds and its figures.

Checks, in order:

- device: seqviz.core.device picks the GPU for batched work and the CPU for sequential
  work, and describes the GPU (name, memory, free memory, versions);
- oom_fallback: an allocation larger than the GPU, made through
  seqviz.core.device.run_with_fallback, is rerun on the CPU with a notice, and the GPU
  still works afterwards;
- gradients: seqviz.recurrent.gradients on the GPU for every kind, against the same
  computation on the CPU and against the per-step reference on the GPU;
- rnn_training: seqviz.recurrent.train.train_memory_model on the GPU (fused twins, bf16
  autocast, with and without a progress callback); the trained from-scratch model must
  answer the validation set as the fused twin did;
- vit_training: seqviz.vit.train.make_step on the GPU (bf16 autocast, fused attention),
  then evaluation, rollout and attention maps on the model's own device, against the
  same model's predictions on the CPU;
- vit_compile: make_step with torch.compile on the GPU, against the eager step;
- bench_train_vit, bench_train_rnn, bench_gradients: the benchmarks' CUDA lines, each run
  in its own process with small sizes (their lines are printed, indented, under the check);
- vit_speedup: the >= 3x target of bench_train_vit (project path / fp32 eager samples/s) at
  the largest batch it timed;
- bench_captioning: the captioning benchmark's lines on the device (the live captioner per
  frame, the offline and per-frame ones per clip; shipped models when models/ has them,
  else seeded random weights), its own process; on CUDA the GPU's captions (a live stream
  and an offline describe of each clip) must equal the CPU's. It needs OpenCV (it draws the
  clips), and says SKIP where OpenCV is missing.

A check that raises is a FAIL with the error's first line; the others still run. The
last line is `gpu_check: N passed, M failed, total S s` (and how many were skipped). Exit
status 1 when a check failed, else 0. Without CUDA every check says `SKIP no CUDA`.

`--device cpu` runs the same checks on the CPU with small sizes (the OOM is then simulated,
and the compile and speed-up checks are skipped: make_step compiles on CUDA only);
tests/unit/test_gpu_check.py runs it so that this script cannot rot unnoticed.

On a GPU machine, from the repository root (any python3 with torch, numpy and
scikit-image, and opencv-python-headless for the captioning check; no streamlit needed):

    bench/gpu_check.sh                       # or: PYTHON=/path/to/python3 bench/gpu_check.sh
    PYTHONPATH=. python3 -m bench.gpu_check [--device cuda|cpu] [--sizes auto|small|gpu]
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
STATUSES = ("PASS", "FAIL", "SKIP")
SUMMARY = re.compile(r"^gpu_check: (\d+) passed, (\d+) failed, total ([\d.]+) s")
RATIO = re.compile(r"ratio project/baseline at batch (\d+)[^:]*: ([\d.]+)x")


@dataclass(frozen=True)
class Sizes:
    """How much work each check does."""

    gradient_length: int       # one-pass norms, GPU against CPU
    reference_length: int      # against the per-step reference (O(T^2))
    rnn_steps: int
    vit_steps: int
    bench_timeout_s: float
    train_vit: tuple[str, ...]
    train_rnn: tuple[str, ...]
    gradients: tuple[str, ...]
    captioning: tuple[str, ...]


SIZES = {
    "gpu": Sizes(gradient_length=300, reference_length=100, rnn_steps=100, vit_steps=60, bench_timeout_s=240,
                 train_vit=("--batches", "16", "1024", "--rounds", "5", "--steps-per-round", "20",
                            "--budget-s", "15"),
                 train_rnn=("--steps", "50", "--rounds", "3"),
                 gradients=("--lengths", "100", "--rounds", "2"),
                 captioning=("--clips", "2", "--rounds", "5")),
    "small": Sizes(gradient_length=60, reference_length=30, rnn_steps=25, vit_steps=12, bench_timeout_s=120,
                   train_vit=("--batches", "16", "--rounds", "1", "--steps-per-round", "2", "--budget-s", "0.3"),
                   train_rnn=("--steps", "4", "--rounds", "1", "--kinds", "lstm", "tcn"),
                   gradients=("--lengths", "20", "--rounds", "1", "--kinds", "rnn-tanh", "tcn"),
                   captioning=("--clips", "1", "--rounds", "1")),
}
GRADIENT_TOLERANCE = 5e-2    # relative: cuDNN may use TF32 for float32 recurrences and convolutions (torch's
#                              default), and a recurrence compounds its rounding over the steps; a wrong
#                              device or a wrong formula gives gaps of order 1
PREDICTION_TOLERANCE = 0.05  # |GPU (bf16 autocast) - CPU (fp32)| per pixel, pixels in [0, 1]
ACCURACY_TOLERANCE = 0.02    # fused twin against the from-scratch model, on 512 sequences
COMPILE_TOLERANCE = 0.1      # relative gap of the early losses, compiled against eager
TOTAL_BUDGET_S = 450         # the whole script stays under 8 minutes on a GPU machine


@dataclass
class Result:
    status: str
    figures: str
    details: list[str] = field(default_factory=list)


@dataclass
class Context:
    device: torch.device
    sizes: Sizes
    deadline: float
    found: dict[str, Result] = field(default_factory=dict)
    ratios: dict[int, float] = field(default_factory=dict)

    @property
    def cuda(self) -> bool:
        return self.device.type == "cuda"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0][:200] if text else ''}"


def _verdict(ok: bool, figures: str, details: list[str] | None = None) -> Result:
    return Result("PASS" if ok else "FAIL", figures, details or [])


# --- the checks -------------------------------------------------------------------------------

def check_device(ctx: Context) -> Result:
    from seqviz.core import device as devices

    batched = devices.resolve("Auto", "batched")
    sequential = devices.resolve("Auto", "sequential")
    chosen = devices.resolve("GPU" if ctx.cuda else "CPU", "batched")
    info = devices.describe(ctx.device)
    free = devices.free_memory_bytes(ctx.device)
    x = torch.arange(6.0, device=ctx.device).reshape(2, 3)
    product = float((x @ x.T).sum())                                # 0..5: [[5, 14], [14, 50]]
    ok = chosen == ctx.device and sequential.type == "cpu" and free > 0 and product == 83.0
    if ctx.cuda:
        ok = ok and batched.type == "cuda" and devices.gpu_unavailable_reason() is None
        extra = (f", CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, "
                 f"bf16 {'supported' if torch.cuda.is_bf16_supported() else 'NOT supported'}")
    else:
        extra = f", GPU: {devices.gpu_unavailable_reason() or 'present'}"
    memory = f"{info.total_memory_gib:.1f} GiB" if info.total_memory_gib else "memory unknown"
    return _verdict(ok, f"Auto/batched -> {batched.type}, Auto/sequential -> {sequential.type}; "
                        f"{info.name} ({memory}, {free / 2**30:.1f} GiB free), torch {info.torch_version}{extra}")


def check_oom_fallback(ctx: Context) -> Result:
    from seqviz.core import device as devices

    if ctx.cuda:
        total = torch.cuda.get_device_properties(ctx.device).total_memory
        before = torch.cuda.memory_allocated(ctx.device)

        def work(device: torch.device) -> str:
            size = 2 * total if device.type == "cuda" else 1 << 20    # twice the GPU, else 1 MiB
            return f"{torch.empty(size, dtype=torch.uint8, device=device).numel():,} bytes"

        how = f"an allocation of {2 * total / 2**30:.0f} GiB on a {total / 2**30:.0f} GiB GPU"
        result, used, notice = devices.run_with_fallback(work, ctx.device)
        after = torch.cuda.memory_allocated(ctx.device)
        still = float(torch.ones(1000, device=ctx.device).sum())    # the GPU still works
        ok = used.type == "cpu" and notice is not None and "out of memory" in notice.lower() \
            and still == 1000.0 and after == before
        figures = f"{how} -> ran on {used.type} ({result}); GPU memory after {after - before:+d} bytes, " \
                  f"GPU usable after: {still == 1000.0}; notice: {notice}"
        return _verdict(ok, figures)

    def simulated(device: torch.device) -> str:                     # what a real CUDA OOM raises
        if device.type != "cpu":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 280.00 GiB (simulated)")
        return device.type

    result, used, notice = devices.run_with_fallback(simulated, torch.device("cuda"))
    ok = result == "cpu" and used.type == "cpu" and notice is not None and "out of memory" in notice
    return _verdict(ok, f"simulated (no GPU): ran on {used.type}; notice: {notice}")


def check_gradients(ctx: Context) -> Result:
    from bench.gradients import relative_gap
    from seqviz.recurrent import gradients
    from seqviz.recurrent.train import build_model

    device, hidden = str(ctx.device), 64
    length, short = ctx.sizes.gradient_length, ctx.sizes.reference_length
    parts, worst = [], 0.0
    for kind in gradients.GRADIENT_KINDS:
        start = time.perf_counter()
        on_device = gradients.gradient_profile(kind, length, hidden, device=device)
        seconds = time.perf_counter() - start
        on_cpu = gradients.gradient_profile(kind, length, hidden, device="cpu")
        fast = gradients.hidden_grad_norms(kind, short, hidden, device=device)
        slow = gradients.hidden_grad_norms_per_step(kind, short, hidden, device=device)
        gaps = (relative_gap(on_device.norms, on_cpu.norms), relative_gap(fast, slow),
                abs(on_device.parameter_grad_norm - on_cpu.parameter_grad_norm) / max(on_cpu.parameter_grad_norm,
                                                                                     1e-30))
        finite = bool(np.isfinite(on_device.norms).all()) and on_device.norms.shape == (length,)
        worst = max(worst, *gaps) if finite else math.inf
        parts.append(f"{kind} {seconds * 1000:.0f} ms, gaps {gaps[0]:.0e}/{gaps[1]:.0e}/{gaps[2]:.0e}")
    # a model handed over on the CPU (as the page hands a loaded checkpoint) is copied to the device
    given = build_model("lstm", hidden, short, seed=3)
    handed = gradients.gradient_profile("lstm", short, hidden, device=device, model=given, seed=3)
    own = gradients.gradient_profile("lstm", short, hidden, device="cpu", model=given, seed=3)
    handed_gap = relative_gap(handed.norms, own.norms)
    untouched = next(given.parameters()).device.type == "cpu"
    ok = worst <= GRADIENT_TOLERANCE and handed_gap <= GRADIENT_TOLERANCE and untouched
    return _verdict(ok, f"length {length} hidden {hidden} on {device}; relative gaps vs CPU / vs per-step "
                        f"reference (length {short}) / ||dL/dtheta|| vs CPU, all <= {GRADIENT_TOLERANCE:g}: "
                        + "; ".join(parts) + f"; a CPU model handed over: gap {handed_gap:.0e}, "
                        f"left on the CPU: {untouched}")


def check_rnn_training(ctx: Context) -> Result:
    from seqviz.recurrent import tasks
    from seqviz.recurrent import train as mt

    steps = ctx.sizes.rnn_steps
    parts, ok = [], True
    for index, kind in enumerate(("rnn-tanh", "lstm", "gru", "tcn")):
        config = mt.MemoryConfig(kind=kind, steps=steps, eval_every=min(25, steps))
        initial = [p.detach().clone() for p in mt.build_model(kind, config.hidden, config.length,
                                                              seed=config.seed).parameters()]
        reports = []
        start = time.perf_counter()
        model, history = mt.train_memory_model(
            config, ctx.device, on_progress=reports.append if index % 2 else None)  # both loop paths
        seconds = time.perf_counter() - start
        on_device = all(p.device.type == ctx.device.type for p in model.parameters())
        changed = any(not torch.equal(p.detach().cpu(), q) for p, q in zip(model.parameters(), initial))
        x, y = (t.to(ctx.device) for t in tasks.memory_task(mt.VAL_SIZE, config.length, seed=config.seed,
                                                            split="val"))
        scratch = mt.evaluate(model, x, y)["accuracy"]              # the from-scratch cells on the device
        twin = history[-1]["val_accuracy"] if history else float("nan")
        finite = all(math.isfinite(row["val_loss"]) for row in history) and bool(history)
        callbacks = len(reports) == steps if index % 2 else True
        agree = abs(scratch - twin) <= ACCURACY_TOLERANCE
        ok = ok and on_device and changed and finite and callbacks and agree
        parts.append(f"{kind} {steps * config.batch / seconds:,.0f} seq/s, val acc {twin:.3f} "
                     f"(from-scratch {scratch:.3f})" + ("" if on_device and changed and callbacks else
                                                         f" [on device {on_device}, trained {changed}, "
                                                         f"callbacks {len(reports)}]"))
    return _verdict(ok, f"{steps} steps, batch 64 on {ctx.device.type}, half with a progress callback: "
                        + "; ".join(parts))


def _vit_setup(ctx: Context):
    from seqviz.vit import model as vit
    from seqviz.vit import video

    return vit, video, video.synthetic_game(**video.DEFAULT_VIDEO, seed=0)


def _train_vit(ctx: Context, settings, steps: int):
    from seqviz.core.train import train_loop
    from seqviz.vit import train as vit_train

    vit, video, frames = _vit_setup(ctx)
    model = vit.build(vit.PRESETS["full"], settings.seed).to(ctx.device)
    step = vit_train.make_step(model, video.to_tensor(frames), settings, ctx.device)
    start = time.perf_counter()
    history = train_loop(step, steps)
    return model, [row["loss"] for row in history], time.perf_counter() - start, frames


def check_vit_training(ctx: Context) -> Result:
    from seqviz.vit import evaluate as vit_eval
    from seqviz.vit import train as vit_train

    steps = ctx.sizes.vit_steps
    settings = vit_train.TrainSettings(steps=steps, batch_size=16, seed=0)   # bf16 autocast on CUDA
    model, losses, seconds, frames = _train_vit(ctx, settings, steps)
    on_device = all(p.device.type == ctx.device.type for p in model.parameters())
    first, last = float(np.mean(losses[:5])), float(np.mean(losses[-5:]))
    evaluation = vit_eval.evaluate(model.eval(), frames)                 # on the model's own device
    on_cpu = vit_eval.predict_all(copy.deepcopy(model).cpu(), frames)
    gap = float(np.abs(evaluation.predicted - on_cpu).max())
    f = model.config.frames
    maps = vit_eval.attention_maps(model, frames, f + 5)                 # (L, heads, P, F, g, g)
    rows = maps.reshape(*maps.shape[:3], -1).sum(-1)
    rolled = vit_eval.rollout(model, frames, f, 3)
    still = next(model.parameters()).device.type == ctx.device.type
    ok = (on_device and still and all(map(math.isfinite, losses)) and last < first
          and math.isfinite(evaluation.mean_psnr) and gap <= PREDICTION_TOLERANCE
          and float(np.abs(rows - 1).max()) < 1e-3 and rolled.shape[0] == 3 and bool(np.isfinite(rolled).all()))
    return _verdict(ok, f"{steps} steps, batch 16 on {ctx.device.type} ({steps * 16 / seconds:,.0f} samples/s "
                        f"with the first step): loss {first:.5f} -> {last:.5f}; PSNR {evaluation.mean_psnr:.2f} dB "
                        f"(copying the last frame {evaluation.copy_mean_psnr:.2f}); predictions here vs on the CPU "
                        f"max |gap| {gap:.4f} (<= {PREDICTION_TOLERANCE}); attention rows sum to 1 within "
                        f"{float(np.abs(rows - 1).max()):.0e}; rollout {rolled.shape}; model left on "
                        f"{next(model.parameters()).device.type}")


def check_vit_compile(ctx: Context) -> Result:
    from seqviz.vit import train as vit_train

    if not ctx.cuda:
        return Result("SKIP", "make_step uses torch.compile on CUDA only")
    steps = max(10, ctx.sizes.vit_steps // 2)
    eager = vit_train.TrainSettings(steps=steps, batch_size=16, seed=0)
    try:
        _, compiled_losses, seconds, _ = _train_vit(ctx, vit_train.TrainSettings(steps=steps, batch_size=16, seed=0,
                                                                                  compile=True), steps)
    except Exception as error:  # noqa: BLE001 - the page's compiled path failed: that is this check's finding
        torch._dynamo.reset()
        return Result("FAIL", f"torch.compile in make_step failed: {_first_line(error)}")
    _, eager_losses, eager_seconds, _ = _train_vit(ctx, eager, steps)
    early = slice(1, 6)   # step 0 is the zero head's copy of the last frame on every path
    gap = abs(np.mean(compiled_losses[early]) - np.mean(eager_losses[early])) / np.mean(eager_losses[early])
    ok = all(map(math.isfinite, compiled_losses)) and gap <= COMPILE_TOLERANCE
    return _verdict(ok, f"{steps} steps batch 16: compiled {seconds:.1f} s with the compile, eager "
                        f"{eager_seconds:.1f} s; losses of steps 1-5 compiled vs eager relative gap {gap:.1e} "
                        f"(<= {COMPILE_TOLERANCE}); last loss {compiled_losses[-1]:.5f} vs {eager_losses[-1]:.5f}")


def _run_bench(ctx: Context, module: str, args: tuple[str, ...], scale: float = 1.0
               ) -> tuple[int, list[str], str]:
    """Run `python -m bench.<module> args` from the repository root; (exit status, stdout lines,
    the stderr's last line)."""
    timeout = max(10.0, min(scale * ctx.sizes.bench_timeout_s, ctx.deadline - time.perf_counter()))
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    try:
        done = subprocess.run([sys.executable, "-m", f"bench.{module}", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        out = error.stdout.decode() if isinstance(error.stdout, bytes) else (error.stdout or "")
        return -1, out.splitlines(), f"timed out after {timeout:.0f} s"
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    return done.returncode, done.stdout.splitlines(), errors[-1] if errors else ""


def _bench_result(code: int, lines: list[str], error: str, wanted: Callable[[list[str]], bool],
                  figures: str) -> Result:
    if code != 0:
        return Result("FAIL", f"exit status {code}: {error}", lines)
    return _verdict(wanted(lines), figures, lines)


def check_bench_train_vit(ctx: Context) -> Result:
    device = ctx.device.type
    code, lines, error = _run_bench(ctx, "train_vit", ("--device", device, *ctx.sizes.train_vit), scale=1.5)
    for line in lines:
        match = RATIO.search(line)
        if match:
            ctx.ratios[int(match.group(1))] = float(match.group(2))
    failed = [line for line in lines if "failed" in line]          # a compile, or a whole path
    page_paths = [line for line in failed if "project" in line or "baseline" in line]
    figures = ", ".join(f"batch {batch}: {ratio:.2f}x" for batch, ratio in ctx.ratios.items())
    figures = f"project/baseline samples/s {figures or 'not printed'}" + (
        f"; {len(failed)} line(s) report a failure" if failed else "")
    return _bench_result(code, lines, error, lambda found: bool(ctx.ratios) and not page_paths, figures)


def check_vit_speedup(ctx: Context) -> Result:
    if not ctx.cuda:
        return Result("SKIP", "the >= 3x target is for CUDA (on a CPU both paths are the same fp32 eager step)")
    if not ctx.ratios:
        return Result("FAIL", "bench_train_vit printed no ratio")
    batch = max(ctx.ratios)
    ratio = ctx.ratios[batch]
    others = ", ".join(f"batch {b}: {r:.2f}x" for b, r in ctx.ratios.items() if b != batch)
    return _verdict(ratio >= 3.0, f"project/baseline {ratio:.2f}x at batch {batch} (target >= 3x)"
                                  + (f"; {others}" if others else ""))


def check_bench_train_rnn(ctx: Context) -> Result:
    code, lines, error = _run_bench(ctx, "train_rnn", ("--devices", ctx.device.type, *ctx.sizes.train_rnn))
    rows = [line for line in lines if line.startswith(ctx.device.type) and "seq/s" in line]
    ratios = [re.search(r"ours / fused\s+([\d.]+)", line) for line in rows]
    figures = f"{len(rows)} kind(s) on {ctx.device.type}, ours/fused " + ", ".join(
        f"{line.split()[1]} {m.group(1)}" for line, m in zip(rows, ratios) if m)
    return _bench_result(code, lines, error, lambda found: bool(rows) and all(ratios), figures)


def check_bench_gradients(ctx: Context) -> Result:
    code, lines, error = _run_bench(ctx, "gradients", ("--device", ctx.device.type, *ctx.sizes.gradients))
    rows = [line for line in lines if line.startswith(ctx.device.type) and "one pass" in line]
    gaps = [float(m.group(1)) for m in (re.search(r"gap \(norms > 1e-30\) ([\d.e+-]+)", line) for line in rows)
            if m]
    times = [re.search(r"one pass\s+([\d.]+) ms", line) for line in rows]
    figures = (f"{len(rows)} row(s) on {ctx.device.type}, one pass "
               + ", ".join(f"{line.split()[1]} {m.group(1)} ms" for line, m in zip(rows, times) if m)
               + (f"; largest gap to the per-step reference {max(gaps):.0e}" if gaps else ""))
    return _bench_result(code, lines, error,
                         lambda found: bool(rows) and len(gaps) == len(rows) and max(gaps) <= GRADIENT_TOLERANCE,
                         figures)


def check_bench_captioning(ctx: Context) -> Result:
    try:
        import cv2  # noqa: F401 - the clips and the optical flow are drawn with OpenCV
    except ImportError:
        return Result("SKIP", "needs OpenCV (pip install opencv-python-headless) for the captioning clips")
    from bench import captioning

    weights = ("--random-weights",) if captioning.missing_checkpoints() else ()
    code, lines, error = _run_bench(ctx, "captioning", ("--devices", ctx.device.type, *weights,
                                                        *ctx.sizes.captioning))
    summaries = [captioning.parse_summary(line) for line in lines if line.startswith(captioning.SUMMARY_PREFIX)]
    found = next((s for s in summaries if s.get("device") == ctx.device.type), None)
    if found is None:
        return _bench_result(code, lines, error, lambda _: False, f"no summary line for {ctx.device.type}")
    numbers = [value for key, value in found.items() if isinstance(value, float)]
    matched, _, compared = str(found.get("same_captions", "")).partition("/")
    same = not ctx.cuda or (compared.isdigit() and int(compared) > 0 and matched == compared)
    figures = (f"{found['weights']} weights: live {found['live_ms_per_frame']:.3g} ms a frame (worst "
               f"{found['live_worst_frame_ms']:.3g} ms, RTF {found['live_rtf']:.0f}), offline "
               f"{found['offline_ms_per_clip']:.3g} ms a clip (RTF {found['offline_rtf']:.0f}), per-frame "
               f"{found['per_frame_ms_per_clip']:.3g} ms a clip (RTF {found['per_frame_rtf']:.0f})"
               + (f"; captions the same as the CPU's: {found.get('same_captions', 'not compared')}" if ctx.cuda
                  else ""))
    return _bench_result(code, lines, error,
                         lambda _: all(math.isfinite(v) and v > 0 for v in numbers) and same, figures)


CHECKS: dict[str, Callable[[Context], Result]] = {
    "device": check_device,
    "oom_fallback": check_oom_fallback,
    "gradients": check_gradients,
    "rnn_training": check_rnn_training,
    "vit_training": check_vit_training,
    "vit_compile": check_vit_compile,
    "bench_train_vit": check_bench_train_vit,
    "vit_speedup": check_vit_speedup,
    "bench_train_rnn": check_bench_train_rnn,
    "bench_gradients": check_bench_gradients,
    "bench_captioning": check_bench_captioning,
}


def run(device: str = "cuda", sizes: str = "auto", only: list[str] | None = None,
        out: Callable[[str], None] = print) -> int:
    """Run the checks; print one line each and the summary; return the exit status."""
    start = time.perf_counter()
    names = only or list(CHECKS)
    if device == "cuda" and not torch.cuda.is_available():
        from seqviz.core.device import gpu_unavailable_reason

        reason = gpu_unavailable_reason() or "CUDA is not available"
        for name in names:
            out(f"SKIP {name:<16} no CUDA ({reason})")
        out(f"gpu_check: 0 passed, 0 failed, total {time.perf_counter() - start:.1f} s "
            f"({len(names)} skipped: no CUDA)")
        return 0
    chosen = SIZES[sizes if sizes != "auto" else ("gpu" if device == "cuda" else "small")]
    ctx = Context(torch.device(device), chosen, start + TOTAL_BUDGET_S)
    out(f"gpu_check on {device}, torch {torch.__version__}, python {sys.version.split()[0]}, "
        f"sizes {'gpu' if chosen is SIZES['gpu'] else 'small'}, {torch.get_num_threads()} torch threads")
    for name in names:
        began = time.perf_counter()
        if began > ctx.deadline:
            result = Result("FAIL", f"not run: the {TOTAL_BUDGET_S} s budget is spent")
        else:
            try:
                result = CHECKS[name](ctx)
            except Exception as error:  # noqa: BLE001 - one failing path must not hide the others
                result = Result("FAIL", f"raised {_first_line(error)}")
        ctx.found[name] = result
        out(f"{result.status} {name:<16} {time.perf_counter() - began:6.1f} s  {result.figures}")
        for line in result.details:
            out(f"    {line}")
    passed = sum(r.status == "PASS" for r in ctx.found.values())
    failed = sum(r.status == "FAIL" for r in ctx.found.values())
    skipped = sum(r.status == "SKIP" for r in ctx.found.values())
    out(f"gpu_check: {passed} passed, {failed} failed, total {time.perf_counter() - start:.1f} s"
        + (f" ({skipped} skipped)" if skipped else ""))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--sizes", default="auto", choices=["auto", "small", "gpu"],
                        help="auto: gpu sizes on CUDA, small ones on the CPU")
    parser.add_argument("--only", nargs="+", choices=list(CHECKS), help="run these checks alone")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: 1 with "
                        "--device cpu, as the CPU benchmarks use; torch's default with CUDA)")
    args = parser.parse_args(argv)
    threads = args.threads or (1 if args.device == "cpu" else None)
    if threads:
        torch.set_num_threads(threads)
    return run(args.device, args.sizes, args.only, out=lambda line: print(line, flush=True))


if __name__ == "__main__":
    sys.exit(main())
