"""bench/captioning.py: its summary line parses, its figures are positive and agree with each
other (RTF = frames / 30 / time), the frame-by-frame loop writes what inference.stream writes,
and without checkpoints it says to pass --random-weights."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest
import torch

from bench import captioning as bench
from seqviz.captioning import inference
from seqviz.captioning.data import make_clips
from tests.conftest import ROOT

NUMBERS = ("live_ms_per_frame", "live_worst_frame_ms", "live_rtf", "offline_ms_per_clip", "offline_rtf",
           "per_frame_ms_per_clip", "per_frame_rtf", "baseline_ms_per_step", "live_vs_baseline",
           "offline_vs_baseline", "per_frame_vs_baseline")


@pytest.fixture
def one_thread():
    """One torch thread, as the benchmark runs (a second thread waiting on a busy core makes
    each small step many times slower); the process's count is restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bench.captioning", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=2e-3)         # the summary prints 4 significant digits


def test_the_benchmark_prints_a_summary_whose_figures_agree():
    done = _run("--random-weights", "--clips", "1", "--rounds", "2", "--devices", "cpu")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    summary = bench.parse_summary(lines[-1])
    assert (summary["device"], summary["weights"]) == ("cpu", "random")
    assert (summary["frames"], summary["clips"], summary["wait_k"]) == (24, 1, 3)
    assert all(math.isfinite(summary[key]) and summary[key] > 0 for key in NUMBERS), summary
    frames = summary["frames"]
    assert _close(summary["live_rtf"], frames / 30 / (summary["live_ms_per_frame"] * frames / 1e3))
    assert _close(summary["offline_rtf"], frames / 30 / (summary["offline_ms_per_clip"] / 1e3))
    assert _close(summary["per_frame_rtf"], frames / 30 / (summary["per_frame_ms_per_clip"] / 1e3))
    assert _close(summary["live_vs_baseline"], summary["live_ms_per_frame"] / summary["baseline_ms_per_step"])
    baseline_clip = summary["baseline_ms_per_step"] * frames
    assert _close(summary["offline_vs_baseline"], summary["offline_ms_per_clip"] / baseline_clip)
    assert _close(summary["per_frame_vs_baseline"], summary["per_frame_ms_per_clip"] / baseline_clip)
    assert summary["live_worst_frame_ms"] >= summary["live_ms_per_frame"] / 2     # a median frame index, not a mean
    assert "the same steps" in done.stdout and "NOT the same" not in done.stdout
    assert "same_captions" not in summary                                          # compared on CUDA only


def test_the_timed_loop_writes_the_steps_stream_writes(one_thread):
    clip = make_clips(1, seed=0, split="test")[0].frames
    model = bench.load_models(random_weights=True)["live"]
    for k in (1, 3, 30):
        steps, seconds = bench.timed_stream(model, clip, k)
        assert steps == inference.stream(model, clip, wait_k=k)
        assert len(seconds) == len(clip) and all(s > 0 for s in seconds)
        assert len(steps[-1].words) == model.config.max_words           # random weights: <eos> never written
    with torch.no_grad():
        model.out.bias[model.words.index("<eos>")] = 1e4                 # <eos> at once: the loop's other exit
    steps, _ = bench.timed_stream(model, clip, 2)
    assert steps == inference.stream(model, clip, wait_k=2) and steps[-1].words == ()


def test_random_weights_are_seeded_and_every_kind_is_built():
    first, second = bench.load_models(True), bench.load_models(True)
    assert [m.config.kind for m in first.values()] == ["live", "offline", "per-frame"]
    assert all(torch.equal(a, b) for kind in first
               for a, b in zip(first[kind].state_dict().values(), second[kind].state_dict().values()))


def test_without_checkpoints_it_names_them_and_the_flag(tmp_path):
    assert [p.name for p in bench.missing_checkpoints(tmp_path)] == [
        "caption_frames_s0.pt", "caption_live_s0.pt", "caption_offline_s0.pt", "caption_per-frame_s0.pt"]
    if bench.missing_checkpoints():
        done = _run("--clips", "1", "--rounds", "1", "--devices", "cpu")
        assert done.returncode == 2 and "--random-weights" in done.stderr


def test_parse_summary_rejects_other_lines():
    with pytest.raises(ValueError):
        bench.parse_summary("cpu  live wait-3 stream() 0.4 ms a frame")
