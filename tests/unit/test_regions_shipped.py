"""The shipped words-to-regions models: every file loads and measures what its table says, and every
claim the page and models/MODELS.md make about them holds in every seed."""

import pytest
import torch

from seqviz.attention import regions_experiment as experiment
from seqviz.attention import regions_explain as explain
from seqviz.attention import scenes
from seqviz.core import checkpoints
from seqviz.ui.attention import regions as page

QUALITY, CURVES, LOOKS = experiment.read_quality(), experiment.read_curves(), experiment.read_attention()
SEEDS = experiment.SEEDS


def row(name, seed, objects):
    return next(r for r in QUALITY if r.variant == name and r.seed == seed and r.objects == objects)


@pytest.mark.parametrize("name", list(experiment.EXPERIMENTS))
def test_every_shipped_model_measures_what_its_table_says(name):
    for seed in SEEDS:
        path = experiment.checkpoint_path(name, seed)
        assert path.stat().st_size < 1_000_000
        assert checkpoints.load(path)["config"]["variant"] == experiment.EXPERIMENTS[name][0].variant
        model = experiment.load_shipped(name, seed)
        for measured in experiment.measure(model, name, seed):
            shipped = row(name, seed, measured.objects)
            assert measured.scene_accuracy == pytest.approx(shipped.scene_accuracy, abs=1e-6)
            assert measured.object_accuracy == pytest.approx(shipped.object_accuracy, abs=1e-6)
            assert measured.pixel_mse == pytest.approx(shipped.pixel_mse, rel=1e-3, abs=1e-7)
        final = [r for r in CURVES if r.experiment == name and r.seed == seed and r.step == experiment.SETTINGS.steps]
        assert {r.objects: r.scene_accuracy for r in final} == pytest.approx(
            {r.objects: r.scene_accuracy for r in QUALITY if r.variant == name and r.seed == seed})
        if name.startswith("attention"):
            looks = experiment.measure_attention(model, name, seed)
            shipped_looks = [r for r in LOOKS if r.experiment == name and r.seed == seed]
            assert [r.own_phrase for r in looks] == pytest.approx([r.own_phrase for r in shipped_looks], abs=1e-6)


def test_trained_to_the_end_both_models_draw_four_objects_right():
    for seed in SEEDS:
        assert row("attention", seed, 4).scene_accuracy >= 0.99
        assert row("one-vector", seed, 4).scene_accuracy >= 0.99


def test_attention_learns_the_binding_sooner_in_every_seed():
    for seed in SEEDS:
        attention = page.first_step_at(CURVES, "attention", seed, 4)
        one_vector = page.first_step_at(CURVES, "one-vector", seed, 4)
        assert attention <= 400 and one_vector >= 2 * attention
        assert page.first_step_at(CURVES, "one-vector", seed, 1) <= one_vector   # one object before four


def test_after_800_steps_one_vector_falls_with_every_object_and_attention_does_not():
    test = experiment.test_set()
    for seed in SEEDS:
        early = {v: experiment.load_shipped(v, seed, early=True) for v in ("attention", "one-vector")}
        rows = {v: {r.objects: r for r in experiment.measure(m, v, seed, test)} for v, m in early.items()}
        accuracy = [rows["one-vector"][k].scene_accuracy for k in range(1, 5)]
        assert accuracy == sorted(accuracy, reverse=True) and accuracy[0] - accuracy[3] > 0.2
        assert all(rows["attention"][k].scene_accuracy >= 0.99 for k in range(1, 5))
        curve = {r.objects: r.scene_accuracy for r in CURVES
                 if r.experiment == "one-vector" and r.seed == seed and r.step == experiment.EARLY_STEP}
        assert curve == pytest.approx({k: r.scene_accuracy for k, r in rows["one-vector"].items()})


def test_on_four_objects_never_read_attention_holds_and_one_vector_swings():
    for seed in SEEDS:
        assert row("attention-upto3", seed, 4).scene_accuracy >= 0.99
        assert row("attention-upto3", seed, 4).seen_in_training == 0
    dip, _ = page.lowest_after(CURVES, "one-vector-upto3", 4, 1000)
    steady, _ = page.lowest_after(CURVES, "attention-upto3", 4, 400)
    assert steady >= 0.99 and dip < 0.7


def test_each_quadrant_reads_its_own_objects_words_in_every_seed():
    for seed in SEEDS:
        looks = next(r for r in LOOKS if r.experiment == "attention" and r.seed == seed and r.objects == 0)
        assert looks.own_phrase >= 0.95 and looks.top_word_own == 1.0


@pytest.mark.parametrize("seed", SEEDS)
def test_moving_an_object_moves_its_words_weight_to_the_new_quadrant(seed):
    model = experiment.load_shipped("attention", seed)
    scene = scenes.parse(scenes.EXAMPLES[0])
    for position, word, category in explain.changeable(scene):
        if category not in ("row", "column"):
            continue
        for new in explain.CATEGORIES[category]:
            if new == word:
                continue
            changed = explain.change_word(scene, position, new)
            before, after = explain.draw(model, scene), explain.draw(model, changed)
            moved = next(t for t in changed.things if t not in scene.things)
            phrase = scenes.phrase_positions(changed.things.index(moved))
            weight = after.weights[:, phrase.start:phrase.stop].sum(axis=1)
            assert weight[moved.quadrant] > 0.9
            assert after.right == (True,) * 4 and before.right == (True,) * 4
            assert max(after.errors) < 0.005 and max(before.errors) < 0.005        # drawn clean, not blurred


def test_sentences_the_page_writes_read_the_tables():
    early = {s: [r for v in ("attention", "one-vector")
                 for r in experiment.measure(experiment.load_shipped(v, s, early=True), v, s)] for s in SEEDS}
    text = page.ablation_text(QUALITY, CURVES, early)
    assert "cross-attention 300, 300, 300" in text
    assert "both models draw the four-object test sentences right" in text
    with torch.no_grad():
        looks = experiment.measure_attention(experiment.load_shipped("attention", 0), "attention", 0)[0]
    assert f"**{looks.own_phrase:.1%}**" in page.attention_text(LOOKS, looks, 0)
