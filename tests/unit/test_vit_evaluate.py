"""The one evaluation of the predictive ViT (seqviz.vit.evaluate), and the shipped checkpoints:
their stored metrics and models/MODELS.md's table are what evaluate gives, and the page's
claims about the ablations hold for them."""

import re
from dataclasses import FrozenInstanceError, astuple

import numpy as np
import pytest

from seqviz.core import checkpoints
from seqviz.vit import ablations, video
from seqviz.vit import evaluate as vit_eval
from seqviz.vit import model as vit

TINY = vit.ViTConfig(frames=2, image_size=32, patch_size=8, width=32, depth=1, heads=2)
SMALL = vit.ViTConfig(frames=2, image_size=32, patch_size=8, width=32, depth=2, heads=2)


def test_metrics_are_scikit_image_and_copying_is_perfect_on_a_still_video():
    truth = np.random.default_rng(0).random((3, 16, 16, 3))
    noisy = np.clip(truth + 0.05, 0, 1)
    psnr, ssim = vit_eval.frame_metrics(truth, noisy)
    mse = ((truth - noisy) ** 2).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(psnr, 10 * np.log10(1 / mse))
    assert (ssim < 1).all() and vit_eval.frame_metrics(truth, truth)[1].min() == pytest.approx(1)
    assert vit_eval.frame_metrics(truth, truth)[0].tolist() == [99.0] * 3


def test_region_errors_split_the_frame_into_three_disjoint_parts():
    generator = np.random.default_rng(1)
    truth, predicted = generator.random((4, 8, 8, 3)), generator.random((4, 8, 8, 3))
    movers, surprise = generator.random((4, 8, 8)) < 0.3, generator.random((4, 8, 8)) < 0.2
    errors = vit_eval.region_errors(truth, predicted, movers, surprise)
    pixel = np.abs(truth - predicted).mean(-1)                                     # (N, H, W)
    parts = [movers & ~surprise, surprise, ~(movers | surprise)]
    assert sum(p.sum() for p in parts) == pixel.size
    assert errors.ball_paddle == pytest.approx(pixel[parts[0]].mean())
    assert errors.items == pytest.approx(pixel[surprise].mean())
    total = sum(getattr(errors, f) * p.sum() for f, p in zip(("ball_paddle", "items", "background"), parts))
    assert total / pixel.size == pytest.approx(pixel.mean())
    assert np.isnan(vit_eval.mean_abs_error(truth, predicted, np.zeros((4, 8, 8), bool)))


def test_a_model_that_copies_the_last_frame_scores_exactly_the_baseline():
    game = video.game_with_masks(12, 32, seed=0)
    model = vit.build(TINY, 0)                              # zero head: copies the last frame
    scores = vit_eval.evaluate(model, game.frames, movers=game.movers, surprise=game.surprise)
    assert scores.times.tolist() == list(range(2, 12)) and scores.predicted.shape == (10, 32, 32, 3)
    np.testing.assert_allclose(scores.psnr, scores.copy_psnr)
    np.testing.assert_allclose(scores.ssim, scores.copy_ssim)
    np.testing.assert_allclose(astuple(scores.errors), astuple(scores.copy_errors), rtol=1e-6)
    truth, copy = game.frames[2:] / 255.0, game.frames[1:-1] / 255.0
    assert scores.mse == pytest.approx(((truth - copy) ** 2).mean())
    summary = scores.summary()
    assert summary["psnr"] == scores.mean_psnr == pytest.approx(summary["copy_psnr"], abs=1e-6)
    assert summary["error_items"] == scores.errors.items
    with pytest.raises(FrozenInstanceError):
        scores.mse = 0.0                                    # frozen
    plain = vit_eval.evaluate(model, game.frames)
    assert plain.errors is None and "error_items" not in plain.summary()


def test_evaluation_leaves_the_model_where_it_is():
    model = vit.build(TINY, 0).train()
    frames = video.synthetic_game(8, 32)
    vit_eval.evaluate(model, frames)
    vit_eval.rollout(model, frames, 4, 2)
    assert vit_eval.model_device(model).type == "cpu" and model.training
    assert all(p.device.type == "cpu" for p in model.parameters())


def test_rollout_feeds_predictions_back():
    frames = video.synthetic_game(12, 32)
    model = vit.build(TINY, 0)                              # zero head: copies the last frame
    rolled = vit_eval.rollout(model, frames, start=4, steps=5)
    assert rolled.shape == (5, 32, 32, 3)
    np.testing.assert_allclose(rolled, np.repeat(frames[3:4] / 255.0, 5, 0), atol=1e-6)
    with pytest.raises(ValueError):
        vit_eval.rollout(model, frames, start=1, steps=2)


def test_attention_maps_are_each_querys_softmax_over_every_input_token():
    frames = video.synthetic_game(8, 32)
    model = vit.build(SMALL, 0)
    maps = vit_eval.attention_maps(model, frames, target=5)
    assert maps.shape == (2, 2, 16, 2, 4, 4)                   # (L, heads, P, F, grid, grid)
    np.testing.assert_allclose(maps.sum((3, 4, 5)), 1.0, rtol=1e-5)
    window = video.to_tensor(frames[3:5])[None]
    _, weights = model(window, return_attention=True)
    np.testing.assert_allclose(maps[1, 0, 7].ravel(), weights[0, 1, 0, 16 + 7].detach().numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="no self-attention"):
        vit_eval.attention_maps(vit.build(vit.ViTConfig(frames=2, use_attention=False), 0), frames, 5)


def test_attention_on_a_mask_counts_the_patches_it_touches():
    weights = np.zeros((2, 4, 4))
    weights[1, 0, 0], weights[1, 3, 3], weights[0, 2, 1] = 0.5, 0.3, 0.2
    mask = np.zeros((2, 16, 16), bool)
    mask[1, 1, 2] = True                                       # inside patch (0, 0) of frame 1
    mask[0, 9:11, 4:6] = True                                  # inside patch (2, 1) of frame 0
    weight, share = vit_eval.attention_on(weights, mask, 4)
    assert weight == pytest.approx(0.7) and share == pytest.approx(2 / 32)


# ---- the shipped checkpoints ----------------------------------------------------------------

def _build(config):
    return vit.PredictiveViT(vit.ViTConfig(**config))


@pytest.fixture(scope="module")
def shipped():
    """Every shipped checkpoint, evaluated on its default video and on the unseen game."""
    loaded, seen, unseen = {}, {}, {}
    for name, model in ablations.SHIPPED.items():
        loaded[name] = checkpoints.load_model(checkpoints.MODELS_DIR / model.file, _build)
        for results, seed in ((seen, ablations.SEED), (unseen, ablations.UNSEEN_SEED)):
            game = video.game_with_masks(**video.DEFAULT_VIDEO, seed=seed, textured_background=not model.flat)
            results[name] = vit_eval.evaluate(loaded[name].model, game.frames, movers=game.movers,
                                              surprise=game.surprise)
    return loaded, seen, unseen


PRECISION = {"psnr": 2, "ssim": 3, "mse": 5, "copy_psnr": 2, "copy_ssim": 3, "error_ball_paddle": 3,
             "error_items": 3, "error_background": 4, "copy_error_ball_paddle": 3, "copy_error_items": 3,
             "copy_error_background": 4}


def test_stored_metrics_are_what_evaluate_gives(shipped):
    loaded, seen, unseen = shipped
    for name, checkpoint in loaded.items():
        path = checkpoints.MODELS_DIR / ablations.SHIPPED[name].file
        assert path.stat().st_size < 3 * 2**20
        assert checkpoint.metrics["flat_background"] == float(ablations.SHIPPED[name].flat)
        assert vit.ViTConfig(**checkpoint.config) == vit.PRESETS[ablations.SHIPPED[name].preset]
        for prefix, results in (("", seen), ("unseen_", unseen)):
            measured = results[name].summary()
            assert set(PRECISION) == set(measured)
            for key, digits in PRECISION.items():
                assert f"{checkpoint.metrics[prefix + key]:.{digits}f}" == f"{measured[key]:.{digits}f}", \
                    (name, prefix + key)
        record = checkpoint.record
        assert len(record["loss"]) == checkpoint.metrics["steps"] == 1200
        assert record["metrics"] == checkpoint.metrics and record["seed"] == ablations.SEED
        assert checkpoint.metrics["final_loss"] == pytest.approx(np.mean(record["loss"][-20:]), rel=1e-4)


MODELS_COLUMNS = [("final_loss", 5), ("psnr", 2), ("ssim", 3), ("error_ball_paddle", 3),
                  ("unseen_psnr", 2), ("unseen_ssim", 3), ("unseen_error_ball_paddle", 3),
                  ("copy_psnr", 2), ("unseen_copy_psnr", 2)]


def test_the_table_in_models_md_is_the_stored_metrics(shipped):
    loaded, _, _ = shipped
    text = (checkpoints.MODELS_DIR / "MODELS.md").read_text()
    rows = {m.group(1): [c.strip() for c in m.group(2).split("|")[1:-1]]
            for m in re.finditer(r"^\| `(vit_\w+)\.pt` (\|.*\|)$", text, re.M)}
    assert set(rows) == {model.file[:-3] for model in ablations.SHIPPED.values()}
    for name, checkpoint in loaded.items():
        cells = rows[ablations.SHIPPED[name].file[:-3]]
        assert cells[0] == f"{(checkpoints.MODELS_DIR / ablations.SHIPPED[name].file).stat().st_size // 1024} KiB"
        assert cells[1:] == [f"{checkpoint.metrics[key]:.{digits}f}" for key, digits in MODELS_COLUMNS], name
        flat = " --flat" if ablations.SHIPPED[name].flat else ""
        command = (f"python -m seqviz.vit.train --preset {ablations.SHIPPED[name].preset} --seed 0{flat} "
                   f"--out models/{ablations.SHIPPED[name].file}")
        assert re.sub(r" +", " ", command) in {re.sub(r" +", " ", line) for line in text.splitlines()}
        assert checkpoint.record["command"] == command


def test_the_pages_claims_about_the_ablations_hold(shipped):
    _, seen, unseen = shipped
    found = ablations.findings(seen, unseen)
    assert found.seen_gain_min > 5.0                    # every model beats copying on its video
    assert abs(found.no_attention_unseen_gain) < 0.5    # "no better than copying" on the unseen game
    assert found.no_attention_unseen_ball > found.copy_unseen_ball   # and worse on the ball
    assert found.no_pos_unseen_change > 0 and found.no_pos_flat_unseen_change > 0   # positions hurt there
    assert found.no_pos_seen_change < 0                 # ... though they help on the learned video
    assert found.flat_higher


def test_the_prose_in_models_md_quotes_the_findings(shipped):
    _, seen, unseen = shipped
    found = ablations.findings(seen, unseen)
    text = re.sub(r"\s+", " ", (checkpoints.MODELS_DIR / "MODELS.md").read_text())
    no_attention = unseen["no_attention"]
    for quoted in (f"by {found.seen_gain_min:.1f} to {found.seen_gain_max:.1f} dB",
                   f"no better than copying ({no_attention.mean_psnr:.2f} against "
                   f"{no_attention.copy_mean_psnr:.2f} dB)",
                   f"worse on the ball ({found.no_attention_unseen_ball:.3f} against {found.copy_unseen_ball:.3f})",
                   f"{-found.no_pos_seen_change:.2f} dB worse than the full one on the learned video",
                   f"{found.no_pos_unseen_change:.2f} dB *better* on the unseen game",
                   f"({found.no_pos_flat_unseen_change:.2f} dB with a flat background)"):
        assert quoted in text
