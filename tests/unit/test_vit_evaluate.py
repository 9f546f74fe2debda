"""The one evaluation of the predictive ViT (seqviz.vit.evaluate), and the shipped checkpoints of
the many-games experiment: their stored metrics, models/vit_seeds.csv and models/MODELS.md's
table are what evaluate_games gives, and the claims about the ablations hold for them."""

import re
from dataclasses import FrozenInstanceError, astuple

import numpy as np
import pytest

from seqviz.core import checkpoints
from seqviz.vit import ablations, experiment, games, video
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

@pytest.fixture(scope="module")
def shipped():
    """Every shipped variant and seed, loaded and measured on its held-out games."""
    loaded, pooled = {}, {}
    test_games = {flat: games.make_games(games.TEST_GAMES.flat() if flat else games.TEST_GAMES)
                  for flat in (False, True)}
    for name, variant in experiment.VARIANTS.items():
        for seed in experiment.SEEDS:
            loaded[name, seed] = experiment.load_checkpoint(name, seed)
            pooled[name, seed] = games.evaluate_games(loaded[name, seed].model, test_games[variant.flat])
    return loaded, pooled


def test_the_csv_and_the_stored_metrics_are_what_evaluate_games_gives(shipped):
    loaded, pooled = shipped
    rows = {(row.variant, row.seed): row for row in experiment.read_rows()}
    assert set(rows) == set(loaded)
    for key, checkpoint in loaded.items():
        name, seed = key
        path = experiment.shipped_path(name, seed)
        assert path.stat().st_size < 1 * 2**20                         # weights only, small
        assert vit.ViTConfig(**checkpoint.config) == experiment.VARIANTS[name].config
        measured, row = pooled[key].summary(), rows[key]
        for field in ("psnr", "ssim", "copy_psnr", "copy_ssim", "error_entering", "copy_error_entering",
                      "error_bounce", "copy_error_bounce", "error_rest", "copy_error_rest"):
            assert getattr(row, field) == pytest.approx(measured[field], abs=1e-5), (key, field)
            assert checkpoint.metrics[field] == getattr(row, field)
        record = checkpoint.record
        assert len(record["loss"]) == row.steps == experiment.SETTINGS.steps
        assert row.final_loss == pytest.approx(np.mean(record["loss"][-50:]), rel=1e-4)
        assert record["command"] == experiment.command(name, seed)
        assert record["seed"] == seed and record["variant"] == name


def _scores(pooled):
    return {name: [pooled[name, seed].summary() for seed in experiment.SEEDS] for name in experiment.VARIANTS}


def test_the_table_in_models_md_is_the_measured_one(shipped):
    _, pooled = shipped
    text = (checkpoints.MODELS_DIR / "MODELS.md").read_text()
    labels = {name: variant.label for name, variant in experiment.VARIANTS.items()}
    assert ablations.models_table(_scores(pooled), labels) in text
    assert "python -m seqviz.vit.experiment --seeds 0 1 2" in text


def test_the_claims_about_the_ablations_hold_over_every_seed(shipped):
    _, pooled = shipped
    found = ablations.findings(_scores(pooled))
    # where the information must come from another patch, a model without attention cannot get it,
    # and neither can one without positions on a flat background
    assert ablations.verdict(found.entering["no_attention"]) == "no better than copying"
    assert ablations.verdict(found.entering["no_pos_flat"]) == "no better than copying"
    assert found.entering["full"].high < found.entering["no_attention"].low      # every seed apart
    assert found.entering["full_flat"].high < found.entering["no_pos_flat"].low
    # with tube tokens a patch sees its own past even without attention: still no better than copying
    assert ablations.verdict(found.entering["no_attention_tube"]) == "no better than copying"
    assert found.entering["full_tube"].high < found.entering["no_attention_tube"].low
    text = ablations.explanation(found)
    assert found.entering["full"].text() in text and found.entering["no_attention"].text() in text
    models_md = re.sub(r"\s+", " ", (checkpoints.MODELS_DIR / "MODELS.md").read_text())
    for variant in ("full", "no_attention", "no_pos_flat", "full_tube", "no_attention_tube"):
        assert found.entering[variant].text() in models_md, variant


def test_the_notebook_api_loads_and_predicts_on_the_models_device():
    import seqviz.vit

    model, config = seqviz.vit.load_shipped("full")
    assert config == experiment.VARIANTS["full"].config and not model.training
    frames = video.synthetic_game(10, 32, seed=5, textured_background=True)
    predicted = seqviz.vit.predict_all(model, frames)
    assert predicted.shape == (7, 32, 32, 3) and 0 <= predicted.min() and predicted.max() <= 1
    one_video, _ = seqviz.vit.load_shipped(experiment.ONE_VIDEO)
    assert one_video.config.pos_embedding == "learned"
    with pytest.raises(ValueError, match="no shipped model"):
        seqviz.vit.load_shipped("nope")
    with pytest.raises(ValueError, match="seeds"):
        seqviz.vit.load_shipped("full", seed=7)


def test_the_one_video_models_stored_metrics_are_what_evaluate_gives():
    checkpoint = experiment.load_checkpoint(experiment.ONE_VIDEO)
    command = "python -m seqviz.vit.train --preset full --seed 0 --out models/vit_one_video.pt"
    assert checkpoint.record["command"] == command
    assert vit.ViTConfig(**checkpoint.config) == vit.PRESETS["full"]
    for prefix, seed in (("", 0), ("unseen_", 1000)):
        game = video.game_with_masks(**video.DEFAULT_VIDEO, seed=seed)
        measured = vit_eval.evaluate(checkpoint.model, game.frames, movers=game.movers, surprise=game.surprise)
        for key, digits in (("psnr", 2), ("ssim", 3), ("copy_psnr", 2), ("error_ball_paddle", 3)):
            assert f"{checkpoint.metrics[prefix + key]:.{digits}f}" == f"{measured.summary()[key]:.{digits}f}"
