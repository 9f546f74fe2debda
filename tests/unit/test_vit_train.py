"""Training and evaluating the predictive ViT (seqviz.vit.train) and its shipped checkpoints."""

import json

import numpy as np
import pytest
import torch

from seqviz.core import checkpoints
from seqviz.vit import model as vit
from seqviz.vit import train as vit_train
from seqviz.vit import video

TINY = vit.ViTConfig(frames=2, image_size=32, patch_size=8, width=32, depth=1, heads=2)


def test_windows_pair_each_input_with_the_next_frame():
    clip = vit_train.to_tensor(video.synthetic_game(10, 32))
    inputs, targets = vit_train.windows(clip, 3)
    assert inputs.shape == (7, 3, 3, 32, 32) and targets.shape == (7, 3, 32, 32)
    assert torch.equal(inputs[4, 2], clip[6]) and torch.equal(targets[4], clip[7])
    with pytest.raises(ValueError, match="at least 4"):
        vit_train.windows(clip[:3], 3)


def test_training_reduces_the_loss_on_the_game_quickly():
    frames = video.synthetic_game(48, 32, seed=0)
    small = vit.ViTConfig(frames=2, image_size=32, patch_size=4, width=32, depth=1, heads=2)
    seen = []
    model, history = vit_train.train(small, frames, vit_train.TrainSettings(steps=150, seed=0),
                                     torch.device("cpu"), on_progress=seen.append)
    assert len(history) == 150 and seen[-1].step == 150
    first, last = np.mean([h["loss"] for h in history[:5]]), np.mean([h["loss"] for h in history[-10:]])
    assert last < 0.75 * first                    # it starts as "copy the last frame"
    metrics = vit_train.evaluate(model, frames)
    assert metrics["psnr"] > metrics["copy_last_psnr"] + 1.0
    stopped = vit_train.train(TINY, frames, vit_train.TrainSettings(steps=50), torch.device("cpu"),
                              should_stop=lambda: True)[1]
    assert stopped == []


def test_metrics_are_scikit_image_and_copying_is_perfect_on_a_still_video():
    truth = np.random.default_rng(0).random((3, 16, 16, 3))
    noisy = np.clip(truth + 0.05, 0, 1)
    psnr, ssim = vit_train.frame_metrics(truth, noisy)
    mse = ((truth - noisy) ** 2).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(psnr, 10 * np.log10(1 / mse))
    assert (ssim < 1).all() and vit_train.frame_metrics(truth, truth)[1].min() == pytest.approx(1)
    inside, outside = vit_train.error_split(truth, noisy, np.zeros((3, 16, 16), bool))
    assert np.isnan(inside) and outside == pytest.approx(np.abs(truth - noisy).mean())


def test_rollout_feeds_predictions_back():
    frames = video.synthetic_game(12, 32)
    model = vit.PredictiveViT(TINY)                      # zero head: copies the last frame
    rolled = vit_train.rollout(model, frames, start=4, steps=5)
    assert rolled.shape == (5, 32, 32, 3)
    np.testing.assert_allclose(rolled, np.repeat(frames[3:4] / 255.0, 5, 0), atol=1e-6)
    with pytest.raises(ValueError):
        vit_train.rollout(model, frames, start=1, steps=2)


@pytest.mark.parametrize("name", ["vit_full", "vit_no_attention", "vit_no_pos", "vit_full_flat",
                                  "vit_no_pos_flat"])
def test_shipped_checkpoint_loads_and_reaches_its_recorded_psnr(name):
    path = checkpoints.MODELS_DIR / f"{name}.pt"
    assert path.stat().st_size < 3 * 2**20
    payload = checkpoints.load(path)
    model = vit.PredictiveViT(vit.ViTConfig(**payload["config"]))
    model.load_state_dict(payload["state_dict"])
    metrics = payload["metrics"]
    frames = video.synthetic_game(**vit_train.DEFAULT_VIDEO, seed=0,
                                  textured_background=not metrics["flat_background"])
    measured = vit_train.evaluate(model, frames)
    assert measured["psnr"] == pytest.approx(metrics["psnr"], abs=0.05)
    assert measured["ssim"] == pytest.approx(metrics["ssim"], abs=0.002)
    curve = json.loads(path.with_suffix(".json").read_text())
    assert len(curve["loss"]) == metrics["steps"] and curve["metrics"]["psnr"] == metrics["psnr"]


def test_a_gpu_out_of_memory_falls_back_to_the_cpu_with_a_notice(monkeypatch):
    frames = video.synthetic_game(12, 32)
    real_train = vit_train.train

    def failing_on_gpu(config, frames, settings, device, **kwargs):
        if device.type != "cpu":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 80.00 GiB")
        return real_train(config, frames, settings, device, **kwargs)

    monkeypatch.setattr(vit_train, "train", failing_on_gpu)
    kept = []
    model, history, used, notice = vit_train.train_keeping_last_good(
        TINY, frames, vit_train.TrainSettings(steps=5), torch.device("cuda"),
        on_state=lambda m, p, name: kept.append((p.step, name)), report_every=1)
    assert used.type == "cpu" and "out of memory" in notice and "CPU" in notice
    assert len(history) == 5 and kept[-1] == (5, "CPU")


def test_a_non_finite_loss_restores_the_last_reported_weights():
    frames = video.synthetic_game(12, 32)
    states = []
    settings = vit_train.TrainSettings(steps=20, learning_rate=1e30)
    with pytest.raises(Exception) as error:
        vit_train.train_keeping_last_good(TINY, frames, settings, torch.device("cpu"),
                                          on_state=lambda m, p, name: states.append(m), report_every=1)
    assert "loss became" in str(error.value)
    assert states and all(torch.isfinite(p).all() for p in states[-1].parameters())
