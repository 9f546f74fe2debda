"""The shipped captioners: each file is what its command makes, its measurements are what the
test clips give it now, the targets hold in every seed, and the notebook API works from outside."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from seqviz.captioning import experiment
from seqviz.core import checkpoints

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def quality():
    return experiment.read_quality()


@pytest.fixture(scope="module")
def wait_k():
    return experiment.read_wait_k()


def test_every_variant_and_seed_is_shipped_with_its_command(quality):
    for name, config in experiment.VARIANTS.items():
        for seed in experiment.SEEDS:
            loaded = experiment.load_checkpoint(name, seed)
            assert loaded.config == config.__dict__
            assert loaded.record["command"] == experiment.command(name, seed)
            assert experiment.checkpoint_path(name, seed).stat().st_size < 4_000_000
            stored = checkpoints.load(experiment.checkpoint_path(name, seed))["state_dict"]
            assert not any(key.startswith(experiment.SHARED) for key in stored)   # the frame CNN is shipped once
            rows = [r for r in quality if r.variant == name and r.seed == seed]
            assert [r.fraction for r in rows] == list(experiment.FRACTIONS)
            assert loaded.metrics["order_multi"] == pytest.approx(rows[-1].order_multi)
    for kind in ("per-frame", "offline", "live"):
        assert experiment.load_shipped(kind).config.kind == kind
    with pytest.raises(ValueError, match="no shipped captioner"):
        experiment.load_shipped("nonsense")


@pytest.mark.parametrize("name", list(experiment.VARIANTS))
def test_the_stored_measurements_are_what_the_models_give_now(name, quality):
    model = experiment.load_shipped(name, 0)
    again = experiment.measure(model, name, 0)
    stored = [r for r in quality if r.variant == name and r.seed == 0]
    for a, b in zip(again, stored):
        for field in ("bleu4", "rouge_l", "cider", "order", "order_multi", "order_late", "order_pairs"):
            assert getattr(a, field) == pytest.approx(getattr(b, field), abs=1e-6), (field, a.fraction)


def test_the_stored_wait_k_points_are_what_the_live_model_gives_now(wait_k):
    model = experiment.load_shipped("live", 0)
    again = experiment.measure_wait_k(model, 0, ks=[1, 8, 24])
    stored = {(r.policy, r.k): r for r in wait_k if r.seed == 0}
    for row in again:
        old = stored[(row.policy, row.k)]
        assert row.average_lagging == pytest.approx(old.average_lagging, abs=1e-6)
        assert row.order_multi == pytest.approx(old.order_multi, abs=1e-6)


def _at(quality, variant, fraction=1.0):
    return [r for r in quality if r.variant == variant and r.fraction == fraction]


def test_what_the_models_show_holds_in_every_seed(quality, wait_k):
    guess = _at(quality, "per-frame")[0].guess_multi
    for row in _at(quality, "offline"):
        assert row.order_multi > guess + 0.1, row          # the order of events, above guessing it
        assert row.order_pairs > 0.5, row                  # and the two clips of an order pair apart
    for row in _at(quality, "per-frame"):
        assert row.order_multi <= row.guess_multi, row     # per-frame: no better than guessing the order
        assert row.order_pairs == 0.0, row                 # the same average for both clips of a pair
    for live, offline, per_frame in zip(_at(quality, "live"), _at(quality, "offline"), _at(quality, "per-frame")):
        assert per_frame.order_multi < live.order_multi < offline.order_multi + 0.05
    for fraction in (0.25, 0.5, 0.75):                     # before the end of the clip live is ahead
        for live, offline in zip(_at(quality, "live", fraction), _at(quality, "offline", fraction)):
            assert live.order_multi > offline.order_multi, (fraction, live, offline)
    for name in ("offline", "live"):                       # quality grows with the share of the clip seen
        for seed in experiment.SEEDS:
            rows = [r.order for r in quality if r.variant == name and r.seed == seed]
            assert rows == sorted(rows), (name, seed, rows)
    curve = [np.mean([r.order for r in wait_k if r.policy == "wait-k" and r.k == k])
             for k in range(1, 25)]
    for k in range(1, len(curve)):                         # monotone in k within the noise of 500 clips
        assert curve[k] >= max(curve[:k]) - 0.05, (k + 1, curve)
    assert curve[-1] > curve[0] + 0.2
    lags = [np.mean([r.average_lagging for r in wait_k if r.policy == "wait-k" and r.k == k]) for k in range(1, 25)]
    assert all(b > a for a, b in zip(lags, lags[1:]))


def test_models_md_records_the_command_and_the_measured_table(quality, wait_k):
    text = re.sub(r"\s+", " ", (checkpoints.MODELS_DIR / "MODELS.md").read_text())
    assert "python -m seqviz.captioning.experiment --seeds 0 1 2" in text
    for line in experiment.models_table(quality, wait_k).splitlines():
        assert re.sub(r"\s+", " ", line).strip() in text, line


def test_the_notebook_api_works_from_outside_the_repository(tmp_path):
    script = textwrap.dedent("""
        from seqviz import captioning
        from seqviz.captioning.data import make_clips
        clip = make_clips(1, seed=0)[0]
        offline = captioning.load_shipped("offline")
        print(captioning.caption(offline, clip.frames, fraction=1.0))
        steps = captioning.stream(captioning.load_shipped("live"), clip.frames, wait_k=3)
        print(len(steps), steps[-1].caption)
        print(captioning.caption(captioning.load_shipped("per-frame"), clip.frames, fraction=0.5))
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[1].split()[0] == "24" and all(lines)
