"""bench/gpu_check.sh: every check prints its line and the summary parses, on the CPU (small sizes)
as on a GPU machine; a failing check is counted and sets the exit status; without CUDA every
check says so. Also the train_vit benchmark's fallback when torch.compile fails."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import torch

from bench import gpu_check, train_vit
from tests.conftest import ROOT


def _check_lines(lines: list[str]) -> dict[str, tuple[str, str]]:
    """{check name: (status, rest of the line)} from the lines that start with a status."""
    found = {}
    for line in lines:
        status, _, rest = line.partition(" ")
        if status in gpu_check.STATUSES:
            name, _, figures = rest.strip().partition(" ")
            found[name] = (status, figures.strip())
    return found


def _summary(lines: list[str]) -> tuple[int, int, float]:
    match = gpu_check.SUMMARY.match(lines[-1])
    assert match, f"the last line is not the summary: {lines[-1]!r}"
    return int(match.group(1)), int(match.group(2)), float(match.group(3))


def test_the_script_runs_every_check_on_the_cpu_and_ends_with_the_summary():
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": ""}
    done = subprocess.run([str(ROOT / "bench" / "gpu_check.sh"), "--device", "cpu"], cwd="/", env=env,
                          capture_output=True, text=True, timeout=240)
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = _check_lines(lines)
    assert list(found) == list(gpu_check.CHECKS)            # one line per check, in order
    skipped = {name for name, (status, _) in found.items() if status == "SKIP"}
    assert skipped == {"vit_compile", "vit_speedup"}       # CUDA-only: make_step compiles on CUDA alone
    assert all(status == "PASS" for name, (status, _) in found.items() if name not in skipped), found
    passed, failed, seconds = _summary(lines)
    assert (passed, failed) == (len(gpu_check.CHECKS) - 2, 0) and seconds > 0
    assert "ratio project/baseline at batch 16" in done.stdout     # the benchmarks' own lines, indented
    ratio = float(re.search(r"batch 16: ([\d.]+)x", found["bench_train_vit"][1]).group(1))
    assert 0.2 < ratio < 5           # the same fp32 eager step twice on a CPU: about 1x


def test_a_failing_check_is_reported_counted_and_sets_the_exit_status(monkeypatch):
    def broken(ctx):
        raise RuntimeError("CUDA error: an illegal memory access was encountered\nmore text")

    monkeypatch.setitem(gpu_check.CHECKS, "device", broken)
    lines: list[str] = []
    status = gpu_check.run("cpu", "small", only=["device", "oom_fallback"], out=lines.append)
    found = _check_lines(lines)
    assert status == 1
    assert found["device"][0] == "FAIL" and "illegal memory access" in found["device"][1]
    assert "more text" not in found["device"][1]
    assert found["oom_fallback"][0] == "PASS"               # the others still run
    assert _summary(lines)[:2] == (1, 1)


@pytest.mark.skipif(torch.cuda.is_available(), reason="the no-CUDA lines are printed only without CUDA")
def test_without_cuda_every_check_says_so_and_nothing_fails():
    lines: list[str] = []
    assert gpu_check.run("cuda", out=lines.append) == 0
    found = _check_lines(lines)
    assert list(found) == list(gpu_check.CHECKS)
    assert all(status == "SKIP" and figures.startswith("no CUDA") for status, figures in found.values())
    assert _summary(lines)[:2] == (0, 0) and "skipped: no CUDA" in lines[-1]


def test_train_vit_falls_back_to_eager_when_compile_fails(monkeypatch):
    original = train_vit._fresh_step

    def failing_compile(path, frames, device):
        if path.settings.compile:
            raise RuntimeError("inductor failed to compile\ndetails")
        return original(path, frames, device)

    monkeypatch.setattr(train_vit, "_fresh_step", failing_compile)
    monkeypatch.setattr(train_vit, "WARMUP_STEPS", 1)
    frames = train_vit.video.synthetic_game(**train_vit.video.DEFAULT_VIDEO, seed=0)[:12]
    project = train_vit.paths(torch.device("cpu"), 4)[train_vit.PROJECT]
    compiled = train_vit.TrainPath(project.label, train_vit.dataclasses.replace(project.settings, compile=True))
    step, model, note = train_vit.ready_step(compiled, frames, torch.device("cpu"))
    assert step is not None and model is not None
    assert note == "compile failed (RuntimeError: inductor failed to compile); measured eager"
    assert "loss" in step(1)
    other = train_vit.TrainPath("other", compiled.settings, compile_mode="reduce-overhead")
    assert train_vit.ready_step(other, frames, torch.device("cpu"))[::2] == (
        None, "compile failed (RuntimeError: inductor failed to compile)")


def test_ratio_lines_name_the_batch_and_the_verdict():
    rates = {train_vit.PROJECT: 900.0, train_vit.BASELINE: 300.0}
    line = train_vit.ratio_line(1024, rates, 5, torch.device("cuda"))
    assert line == ("ratio project/baseline at batch 1024: 3.00x samples/s (median of 5 interleaved rounds; "
                    "target >= 3x: met)")
    assert gpu_check.RATIO.search(line).groups() == ("1024", "3.00")
    page = train_vit.ratio_line(16, {**rates, train_vit.PROJECT: 600.0}, 5, torch.device("cuda"))
    assert "at batch 16 (the page's batch): 2.00x" in page and "MISSED" in page
    assert gpu_check.RATIO.search(page).groups() == ("16", "2.00")
    assert "not measured" in train_vit.ratio_line(16, {train_vit.BASELINE: 1.0}, 5, torch.device("cuda"))


def test_bench_captioning_on_cuda_passes_only_when_the_captions_match_the_cpus(monkeypatch):
    summary = ("captioning: live_ms_per_frame=0.9 live_worst_frame_ms=1.5 live_rtf=37 offline_ms_per_clip=4 "
               "offline_rtf=200 per_frame_ms_per_clip=3 per_frame_rtf=267 baseline_ms_per_step=0.05 "
               "live_vs_baseline=18 offline_vs_baseline=3.3 per_frame_vs_baseline=2.5 frames=24 clips=2 wait_k=3 "
               "weights=random device=cuda same_captions={}")
    ctx = gpu_check.Context(torch.device("cuda"), gpu_check.SIZES["gpu"], float("inf"))
    for same, status in (("4/4", "PASS"), ("3/4", "FAIL"), ("0/0", "FAIL")):
        lines = ["cuda ...", summary.format(same)]
        monkeypatch.setattr(gpu_check, "_run_bench", lambda *args, lines=lines: (0, lines, ""))
        result = gpu_check.check_bench_captioning(ctx)
        assert result.status == status, (same, result)
        assert f"captions the same as the CPU's: {same}" in result.figures and "live 0.9 ms a frame" in result.figures
    monkeypatch.setattr(gpu_check, "_run_bench", lambda *args: (0, [summary.replace("device=cuda", "device=cpu")], ""))
    assert gpu_check.check_bench_captioning(ctx).status == "FAIL"          # no line for the device checked


def test_bench_captioning_says_skip_without_opencv(monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)                    # `import cv2` raises ImportError
    ctx = gpu_check.Context(torch.device("cpu"), gpu_check.SIZES["small"], float("inf"))
    result = gpu_check.check_bench_captioning(ctx)
    assert result.status == "SKIP" and "OpenCV" in result.figures
