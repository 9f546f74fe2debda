"""Words to regions: the grammar and its pictures, the text-to-image model, and its measurements."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from seqviz.attention import regions_experiment as experiment
from seqviz.attention import regions_explain as explain
from seqviz.attention import scenes
from seqviz.attention.words_to_regions import Drawing, RegionsConfig


def test_every_random_sentence_parses_back_to_its_scene():
    stream = np.random.default_rng(0)
    for scene in scenes.random_scenes(300, stream):
        assert scenes.parse(scenes.sentence(scene)) == scene
        assert len({t.quadrant for t in scene.things}) == len(scene.things)
        words = scenes.tokens(scene)
        assert [tuple(words[p] for p in scenes.phrase_positions(i)) for i in range(len(scene.things))] == \
            [t.words for t in scene.things]
    assert scenes.parse("  A Red circle, TOP left AND a blue square bottom right ") == \
        scenes.parse(scenes.EXAMPLES[0])
    assert all(len(s.things) <= 2 for s in scenes.random_scenes(200, stream, most=2))
    assert {len(s.things) for s in scenes.random_scenes(400, stream)} == {1, 2, 3, 4}


def test_random_scenes_are_seeded():
    a = scenes.random_scenes(20, np.random.default_rng(5))
    assert a == scenes.random_scenes(20, np.random.default_rng(5))
    assert a != scenes.random_scenes(20, np.random.default_rng(6))


@pytest.mark.parametrize("text,words", [
    ("a purple circle top left", ["does not know 'purple'", "red, green, blue, yellow", "circle, square"]),
    ("", ["empty", "knows these words"]),
    ("a red circle top", ["sentence ends", "column (left or right)"]),
    ("a red top left circle", ["word 3 is 'top'", "shape"]),
    ("a red circle top left a blue square top right", ["word 6 is 'a'", "'and'"]),
    ("a red circle top left and a blue square top left", ["two objects in the top left quadrant"]),
    ("a red circle top left and", ["sentence ends"]),
    (" and ".join(["a red circle top left", "a red circle top right", "a red circle bottom left",
                   "a red circle bottom right", "a red circle top left"]), ["at most 4 objects"]),
    ("a red circle top left; drop table", ["';'", "'drop'", "'table'"]),
])
def test_text_outside_the_grammar_gets_a_clear_message(text, words):
    with pytest.raises(scenes.GrammarError) as error:
        scenes.parse(text)
    for word in words:
        assert word in str(error.value)


def test_encoding_pads_and_the_longest_sentence_fills_every_position():
    longest = scenes.parse(scenes.EXAMPLES[3])
    ids, lengths = scenes.encode([longest, scenes.parse(scenes.EXAMPLES[1])])
    assert scenes.MAX_TOKENS == 24 and lengths.tolist() == [24, 6]
    assert (ids[1, 6:] == 0).all() and (ids[0] > 0).all()
    assert [scenes.VOCAB[i] for i in ids[1, :6]] == ["a", "yellow", "triangle", "bottom", "left", "."]


def test_templates_are_distinct_and_each_object_lands_in_its_quadrant():
    t = scenes.templates()
    assert t.shape == (13, scenes.QUADRANT, scenes.QUADRANT, 3)
    flat = t.reshape(13, -1)
    assert min(np.abs(flat[i] - flat[j]).sum() for i in range(13) for j in range(i)) > 5
    picture = scenes.render(scenes.labels([scenes.parse("a yellow square top right.")]))[0]
    q = scenes.QUADRANT
    assert np.allclose(picture[:q, q:], t[scenes.template_index(scenes.Thing("yellow", "square", "top", "right"))])
    for part in (picture[:q, :q], picture[q:, :q], picture[q:, q:]):
        assert np.allclose(part, scenes.BACKGROUND)
    assert np.allclose(picture[q // 2, q + q // 2], scenes.RGB["yellow"])


def _batch(texts):
    return experiment.batch([scenes.parse(t) for t in texts])


@pytest.mark.parametrize("variant", ["attention", "one-vector"])
def test_a_sentence_draws_the_same_alone_and_in_a_padded_batch(variant):
    model = experiment.new_model(RegionsConfig(variant), seed=1).eval()
    data = _batch([scenes.EXAMPLES[1], scenes.EXAMPLES[3]])
    alone = experiment.batch([data.scenes[0]])
    with torch.no_grad():
        both, one = model(data.ids, data.lengths), model(alone.ids[:, :6], alone.lengths)
    assert torch.allclose(both.logits[0], one.logits[0], atol=1e-5)
    assert both.pictures.shape == (2, scenes.SIDE, scenes.SIDE, 3)
    if variant == "attention":
        assert torch.allclose(both.attention.sum(-1), torch.ones(2, 4), atol=1e-6)
        assert torch.all(both.attention[0, :, 6:] == 0)
    else:
        assert both.attention is None


def test_quadrant_codes_are_softmax_qk_v_over_the_words():
    model = experiment.new_model(RegionsConfig("attention"), seed=2).eval()
    data = _batch([scenes.EXAMPLES[0]])
    with torch.no_grad():
        codes, weights = model.codes(data.ids, data.lengths)
        words, _ = model.encode(data.ids, data.lengths)
        n = int(data.lengths[0])
        k, v = model.keys(words[:, :n]), model.values(words[:, :n])
        reference = F.scaled_dot_product_attention(model.queries[None], k, v)
    assert torch.allclose(codes, reference, atol=1e-5)
    assert weights.shape == (1, 4, scenes.MAX_TOKENS)


def test_weights_come_from_the_seed():
    a = experiment.new_model(RegionsConfig("attention"), seed=3).state_dict()
    b = experiment.new_model(RegionsConfig("attention"), seed=3).state_dict()
    c = experiment.new_model(RegionsConfig("attention"), seed=4).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["queries"], c["queries"])


class Oracle(torch.nn.Module):
    """Draws each scene exactly, or with its objects moved one quadrant on (`rotate`)."""

    def __init__(self, data: experiment.Batch, rotate: bool = False):
        super().__init__()
        self.data, self.rotate = data, rotate

    def forward(self, ids, lengths):
        labels = self.data.labels.roll(1, dims=1) if self.rotate else self.data.labels
        patches = torch.tensor(scenes.templates())[labels].clamp(1e-4, 1 - 1e-4)
        return Drawing(torch.logit(patches), torch.zeros(1), None)


def test_measure_scores_an_exact_drawing_perfect_and_counts_objects_in_the_wrong_quadrant():
    data = experiment.batch(scenes.random_scenes(40, np.random.default_rng(0), objects=4))
    perfect = experiment.measure(Oracle(data), "oracle", 0, data)
    assert all(r.scene_accuracy == 1 and r.object_accuracy == 1 and r.swapped == 0 for r in perfect)
    moved = experiment.measure(Oracle(data, rotate=True), "oracle", 0, data)[0]
    same = (data.labels == data.labels.roll(1, dims=1)).float().mean()
    assert moved.object_accuracy == pytest.approx(float(same))
    assert moved.swapped == pytest.approx(1 - float(same))
    assert moved.left_empty == 0


def test_training_a_few_steps_lowers_the_loss_and_records_the_sentences_seen():
    seen = set()
    settings = experiment.TrainSettings(steps=30, batch=32)
    model, history = experiment.train(experiment.new_model(RegionsConfig("attention"), 0), 0, settings, seen=seen)
    assert len(history) == 30 and history[-1]["loss"] < history[0]["loss"]
    assert 0 < len(seen) <= 30 * 32 and not model.training


def test_one_word_changes_keep_the_grammar_or_say_why_not():
    scene = scenes.parse(scenes.EXAMPLES[0])
    options = explain.changeable(scene)
    assert [(p, w) for p, w, _ in options][:4] == [(1, "red"), (2, "circle"), (3, "top"), (4, "left")]
    moved = explain.change_word(scene, 4, "right")
    assert moved.things[0].quadrant == scenes.QUADRANT_NAMES.index("top right")
    three = scenes.parse(scenes.EXAMPLES[2])             # green square top right, red triangle top left, ...
    with pytest.raises(scenes.GrammarError, match="two objects in the top left quadrant"):
        explain.change_word(three, 4, "left")
    assert explain.describe(0) == "empty" and explain.describe(1) == "red circle"
    assert explain.describe(12) == "yellow triangle" and len(scenes.templates()) == 13


def test_side_by_side_training_ends_as_each_model_would_alone_and_measures_as_it_goes():
    settings = experiment.TrainSettings(steps=20, batch=16)
    test = experiment.batch(scenes.random_scenes(12, np.random.default_rng(1)))
    reports, curve = [], []
    models, rows, done = experiment.train_side_by_side(3, settings, test=test, evaluate_every=10, curve=curve,
                                                        on_progress=reports.append)
    assert done == 20 and rows is curve and {r.step for r in rows} == {10, 20}
    assert {r.experiment for r in rows} == {"attention", "one-vector"}
    for variant, model in models.items():
        alone, _ = experiment.train(experiment.new_model(RegionsConfig(variant), 3), 3, settings)
        assert all(torch.equal(a, b) for a, b in zip(alone.state_dict().values(), model.state_dict().values()))
        final = {r.objects: r.scene_accuracy for r in experiment.measure(model, variant, 3, test)}
        assert final == {r.objects: r.scene_accuracy for r in rows if r.experiment == variant and r.step == 20}
    assert reports[-1].step == 20 and {"loss", "loss attention", "loss one-vector"} <= set(reports[-1].metrics)
    seen = []                                   # the stop flag is asked before and inside every step
    stopped, rows, done = experiment.train_side_by_side(3, settings, test=test, evaluate_every=5,
                                                        on_progress=lambda p: seen.append(p.step),
                                                        should_stop=lambda: bool(seen))
    assert done == 5 and {r.step for r in rows} == {5}      # stopped, and measured where it stopped
    assert all(not model.training for model in stopped.values())
