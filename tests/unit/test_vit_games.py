"""The many-games experiment of the predictive ViT: pixel classes, windows, pooled metrics and
the change-weighted loss, against brute force and closed forms."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from seqviz.vit import evaluate as vit_eval
from seqviz.vit import games, video
from seqviz.vit import model as vit
from seqviz.vit.train import CHANGED, weighted_mse

TINY = vit.ViTConfig(frames=3, image_size=32, patch_size=4, width=16, depth=1, heads=2)


def test_pixel_classes_match_a_brute_force_reading_of_the_definition():
    game = video.game_with_masks(40, 32, seed=3)
    f, p = 3, 4
    classes = vit_eval.pixel_classes(game.ball, game.bounce, f, p)
    assert set(classes) == set(vit_eval.PIXEL_CLASSES)
    total = sum(mask.astype(int) for mask in classes.values())
    assert (total == 1).all()                                         # disjoint and covering
    for t in range(f, 40):
        for y in range(32):
            for x in range(32):
                patch = game.ball[t - 1, y // p * p:(y // p + 1) * p, x // p * p:(x // p + 1) * p]
                entering = game.ball[t, y, x] and not patch.any()
                assert classes["entering"][t - f, y, x] == entering
                bounce = (game.ball[t, y, x] or game.ball[t - 1, y, x]) and game.bounce[t] and not entering
                assert classes["bounce"][t - f, y, x] == bounce
    assert classes["entering"].sum() > 0 and classes["bounce"].sum() > 0


def test_a_still_ball_never_enters_a_patch_or_bounces():
    game = video.game_with_masks(20, 32, seed=1, speed=0.0)
    classes = vit_eval.pixel_classes(game.ball, game.bounce, 3, 4)
    assert not game.bounce.any() and classes["entering"].sum() == 0 and classes["bounce"].sum() == 0
    with pytest.raises(ValueError, match="patch size 5"):
        vit_eval.pixel_classes(game.ball, game.bounce, 3, 5)


def test_the_ball_turns_back_only_where_a_bounce_is_marked():
    game = video.game_with_masks(200, 32, seed=0)
    centres = np.array([np.argwhere(b).mean(0) for b in game.ball])            # (T, 2) y, x
    steps = np.diff(centres, axis=0)                                          # steps[t-1]: into t
    reversed_ = (steps[1:] * steps[:-1] < 0).any(-1)                          # into t vs into t-1
    assert reversed_.any() and game.bounce[2:][reversed_].all()
    assert game.bounce.sum() < 0.3 * len(game.bounce)


def test_training_windows_never_cross_two_games():
    set_ = games.GameSet(count=3, num_frames=10, first_seed=5)
    clips = games.make_games(set_)
    inputs, targets = games.training_windows(clips, 3)
    assert inputs.shape == (3 * 7, 3, 3, 32, 32) and targets.shape == (21, 3, 32, 32)
    second = video.to_tensor(clips[1].frames)
    torch.testing.assert_close(inputs[7], second[0:3])
    torch.testing.assert_close(targets[7], second[3])
    assert set(games.TRAIN_GAMES.seeds).isdisjoint(games.TEST_GAMES.seeds)


def test_a_model_that_copies_scores_exactly_copying_on_every_pooled_class():
    clips = games.make_games(games.GameSet(count=2, num_frames=30, first_seed=20_000))
    pooled = games.evaluate_games(vit.build(TINY, 0), clips)                    # zero head: copies
    for name in vit_eval.PIXEL_CLASSES:
        assert pooled.ratio(name) == pytest.approx(1.0, rel=1e-6)
    assert pooled.psnr == pytest.approx(pooled.copy_psnr)
    # pooled = mean over every pixel of the class, in every game
    truth = np.concatenate([c.frames[3:] / 255.0 for c in clips])
    copy = np.concatenate([c.frames[2:-1] / 255.0 for c in clips])
    mask = np.concatenate([vit_eval.pixel_classes(c.ball, c.bounce, 3, 4)["entering"] for c in clips])
    assert pooled.copy_errors["entering"] == pytest.approx(np.abs(truth - copy).mean(-1)[mask].mean())
    assert pooled.pixels["entering"] == mask.sum()


def test_the_change_weighted_loss_is_its_closed_form():
    generator = torch.Generator().manual_seed(0)
    last = torch.rand(2, 3, 4, 4, generator=generator)
    target = last.clone()
    target[0, :, 1, 2] += 0.5                                             # one changed pixel
    prediction = torch.rand(2, 3, 4, 4, generator=generator)
    assert weighted_mse(prediction, target, last, 0.0) == F.mse_loss(prediction, target)
    squared = ((prediction - target) ** 2).sum(1)                        # (2, 4, 4) over colours
    weight = torch.ones(2, 4, 4)
    weight[0, 1, 2] = 1 + 20
    expected = (squared * weight).sum() / (weight.sum() * 3)
    torch.testing.assert_close(weighted_mse(prediction, target, last, 20.0), expected)
    assert CHANGED < 0.5 and math.isfinite(float(expected))


def test_a_variant_trains_from_its_seed_alone_and_is_measured_on_held_out_games():
    from dataclasses import replace

    from seqviz.vit import experiment

    settings = replace(experiment.SETTINGS, steps=3, batch_size=4)
    first, row, losses = experiment.train_variant("no_attention", 1, settings)
    again, row_again, _ = experiment.train_variant("no_attention", 1, settings)
    for name, value in first.state_dict().items():
        assert torch.equal(value, again.state_dict()[name])
    assert replace(row, seconds=0) == replace(row_again, seconds=0)
    assert row.steps == len(losses) == 3 and row.variant == "no_attention"
    assert row.copy_error_entering > 0.3                      # copying misses the whole ball there
    assert experiment.command("full", 2) == "python -m seqviz.vit.experiment --variants full --seeds 2"
