"""Training the predictive ViT (seqviz.vit.train): it learns, it is seeded per call (two
trainings at once give the same weights as one after the other), it keeps the last good
weights, and it asks the one memory policy."""

import sys
import threading

import numpy as np
import pytest
import torch

from seqviz.core import checkpoints, memory
from seqviz.vit import evaluate as vit_eval
from seqviz.vit import model as vit
from seqviz.vit import train as vit_train
from seqviz.vit import video

TINY = vit.ViTConfig(frames=2, image_size=32, patch_size=8, width=32, depth=1, heads=2)
TWO_LAYERS = vit.ViTConfig(frames=2, image_size=32, patch_size=8, width=32, depth=2, heads=2)


def test_training_reduces_the_loss_on_the_game_quickly():
    frames = video.synthetic_game(48, 32, seed=0)
    small = vit.ViTConfig(frames=2, image_size=32, patch_size=4, width=32, depth=1, heads=2)
    seen = []
    result = vit_train.train(small, frames, vit_train.TrainSettings(steps=150, seed=0),
                             torch.device("cpu"), on_progress=seen.append)
    assert isinstance(result, vit_train.TrainResult) and result.device.type == "cpu"
    assert len(result.losses) == 150 and seen[-1].step == 150
    first, last = np.mean(result.losses[:5]), np.mean(result.losses[-10:])
    assert last < 0.75 * first                    # it starts as "copy the last frame"
    scores = vit_eval.evaluate(result.model, frames)
    assert scores.mean_psnr > scores.copy_mean_psnr + 1.0
    stopped = vit_train.train(TINY, frames, vit_train.TrainSettings(steps=50), torch.device("cpu"),
                              should_stop=lambda: True)
    assert stopped.losses == ()


def _weights(seed: int, frames: np.ndarray) -> dict[str, torch.Tensor]:
    settings = vit_train.TrainSettings(steps=6, batch_size=8, seed=seed)
    return vit_train.train(TWO_LAYERS, frames, settings, torch.device("cpu")).model.state_dict()


def test_seeded_trainings_at_once_give_the_weights_of_the_same_in_turn():
    """Two trainings run in two threads at once, while a third thread keeps reseeding and
    drawing from torch's global generator (another session that uses global state): each
    must end with the weights it has when run alone."""
    frames = video.synthetic_game(24, 32, seed=0)
    seeds = (0, 1)
    rounds = 4                           # each pair again: a race shows in some rounds, not all
    in_turn = {seed: _weights(seed, frames) for seed in seeds}
    at_once: dict[tuple[int, int], dict[str, torch.Tensor]] = {}
    barrier, done = threading.Barrier(len(seeds) + 1), threading.Event()

    def run(seed: int) -> None:
        barrier.wait()
        for round_ in range(rounds):
            at_once[seed, round_] = _weights(seed, frames)

    def neighbour() -> None:
        barrier.wait()
        while not done.is_set():
            torch.manual_seed(12345)
            torch.randn(64)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)          # switch threads often, so shared state would show
    try:
        threads = [threading.Thread(target=run, args=(seed,)) for seed in seeds]
        other = threading.Thread(target=neighbour)
        for thread in [*threads, other]:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        done.set()
        other.join()
        sys.setswitchinterval(interval)
    for (seed, round_), weights in at_once.items():
        for name, value in in_turn[seed].items():
            assert torch.equal(weights[name], value), (seed, round_, name)
    assert len(at_once) == rounds * len(seeds)
    assert not torch.equal(in_turn[0]["embed.weight"], in_turn[1]["embed.weight"])


def test_the_memory_check_is_the_shared_policy():
    budget = vit_train.training_budget(vit.PRESETS["full"], 16, "cpu")
    expected = memory.check(vit.memory_estimate_bytes(vit.PRESETS["full"], 16), "cpu", "x")
    assert isinstance(budget, memory.Budget) and budget.fits
    assert (budget.need, budget.limit) == (expected.need, expected.limit)
    huge = vit.ViTConfig(frames=8, image_size=32, patch_size=2, width=256, depth=6, heads=8)
    refused = vit_train.training_budget(huge, 16, "cpu")
    assert not refused.fits and "exceeds" in refused.message and "2,048 tokens" in refused.message
    assert not hasattr(vit_train, "memory_budget_bytes")


def test_a_gpu_out_of_memory_falls_back_to_the_cpu_with_a_notice(monkeypatch):
    frames = video.synthetic_game(12, 32)
    real_train = vit_train.train

    def failing_on_gpu(config, frames, settings, device, **kwargs):
        if device.type != "cpu":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 80.00 GiB")
        return real_train(config, frames, settings, device, **kwargs)

    monkeypatch.setattr(vit_train, "train", failing_on_gpu)
    kept = []
    result = vit_train.train_keeping_last_good(
        TINY, frames, vit_train.TrainSettings(steps=5), torch.device("cuda"),
        on_state=lambda m, p, name: kept.append((p.step, name)), report_every=1)
    assert result.device.type == "cpu" and "out of memory" in result.notice and "CPU" in result.notice
    assert len(result.losses) == 5 and kept[-1] == (5, "CPU")


def test_a_non_finite_loss_restores_the_last_reported_weights():
    frames = video.synthetic_game(12, 32)
    states = []
    settings = vit_train.TrainSettings(steps=20, learning_rate=1e30)
    with pytest.raises(Exception) as error:
        vit_train.train_keeping_last_good(TINY, frames, settings, torch.device("cpu"),
                                          on_state=lambda m, p, name: states.append(m), report_every=1)
    assert "loss became" in str(error.value)
    assert states and all(torch.isfinite(p).all() for p in states[-1].parameters())


def test_the_checkpoint_command_writes_weights_metrics_and_record(tmp_path):
    out = tmp_path / "tiny.pt"
    vit_train.main(["--preset", "tiny", "--steps", "3", "--train-frames", "16", "--out", str(out)])
    loaded = checkpoints.load_model(out, lambda config: vit.PredictiveViT(vit.ViTConfig(**config)))
    assert vit.ViTConfig(**loaded.config) == vit.PRESETS["tiny"]
    assert loaded.record["command"].endswith("--out " + str(out)) and len(loaded.record["loss"]) == 3
    game = video.game_with_masks(**video.DEFAULT_VIDEO, seed=0)
    scores = vit_eval.evaluate(loaded.model, game.frames, movers=game.movers, surprise=game.surprise)
    for name, value in scores.summary().items():
        assert loaded.metrics[name] == pytest.approx(value, abs=1e-6), name
    assert {"unseen_psnr", "unseen_copy_psnr", "final_loss", "steps"} <= set(loaded.metrics)
