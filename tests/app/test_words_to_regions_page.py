"""The words-to-regions page under AppTest: the attention map and the drawings it shows are the
shipped models' own, every button works twice, and text outside the grammar gets a clear message."""

from __future__ import annotations

import json

import numpy as np
import pytest

from seqviz.attention import regions_experiment as experiment
from seqviz.attention import regions_explain as explain
from seqviz.attention import scenes
from seqviz.core import rng
from tests.apptest_helpers import assert_clean, chart_title, heatmap_values, open_page

PAGE = "pages/words_to_regions.py"


def charts(at) -> dict[str, dict]:
    """Every plotly chart of the page by its title."""
    out = {}
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        out[chart_title(spec)] = spec
    return out


def attention_map(at, key: str = "wr_map") -> np.ndarray:
    return np.array(heatmap_values(at, key))


def markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_default_page_shows_the_shipped_models_drawing_and_attention():
    at = open_page(PAGE)
    assert_clean(at)
    scene = scenes.parse(scenes.EXAMPLES[0])
    result = explain.draw(experiment.load_shipped("attention", 0), scene)
    assert np.allclose(attention_map(at), result.weights, atol=1e-6)
    assert any(title.startswith(f"“{scenes.sentence(scene)}”") for title in charts(at))
    table = at.table[0].value
    assert list(table["the sentence asks for"]) == ["red circle", "empty", "empty", "blue square"]
    assert list(table["cross-attention drew"]) == [f"{explain.describe(d)} ✓ (error {e:.3f})"
                                                   for d, e in zip(result.drawn, result.errors)]
    own = explain.looks(result, scene)[0].own_words
    assert f"puts **{own:.0%}** of its attention" in markdown(at)


def test_text_outside_the_grammar_keeps_the_last_good_sentence_with_a_clear_message():
    at = open_page(PAGE)
    at.text_input(key="wr_text").input("a blue circle bottom left").run()
    assert_clean(at)
    assert any("“a blue circle bottom left.”" in title for title in charts(at))
    at.text_input(key="wr_text").input("a purple circle top left [click](http://example.com)").run()
    assert not at.exception
    message = at.error[0].value
    assert "does not know" in message and "purple" in message and "red, green, blue, yellow" in message
    assert "[click](http" not in message                      # escaped, not a link
    assert "a blue circle bottom left" in message             # what is shown instead
    assert any("“a blue circle bottom left.”" in title for title in charts(at))


def test_example_and_random_buttons_work_twice_and_random_sentences_follow_the_seed():
    at = open_page(PAGE)
    for _ in range(2):
        at.button(key="wr_example_2").click().run()
        assert_clean(at)
        assert at.text_input(key="wr_text").value == scenes.EXAMPLES[2]
    drawn = []
    for k in range(1, 3):
        at.button(key="wr_random").click().run()
        assert_clean(at)
        drawn.append(at.text_input(key="wr_text").value)
        expected = scenes.random_scenes(k, rng.numpy_generator(0))[-1]
        assert drawn[-1] == scenes.sentence(expected)
    assert drawn[0] != drawn[1]


def test_changing_left_to_right_moves_the_objects_weight_to_the_new_quadrant():
    at = open_page(PAGE)
    assert at.selectbox(key="wr_at").value == "word 5: left"
    assert at.selectbox(key="wr_to").value == "right"
    after_scene = scenes.parse("a red circle top right and a blue square bottom right")
    after = explain.draw(experiment.load_shipped("attention", 0), after_scene)
    assert np.allclose(attention_map(at, "wr_map_after"), after.weights, atol=1e-6)
    moved = at.table[1].value
    before_col, after_col = "weight on words 1–5: before", "weight on words 1–5: after"
    assert float(moved[after_col][1]) > 0.9 and float(moved[before_col][0]) > 0.9     # top right, top left
    assert "rose most in the **top right** quadrant" in markdown(at)
    assert "fell most in the **top left** quadrant" in markdown(at)


def test_a_change_that_puts_two_objects_in_one_quadrant_is_refused_with_a_message():
    at = open_page(PAGE)
    at.button(key="wr_example_2").click().run()
    at.selectbox(key="wr_at").select("word 5: right").run()
    at.selectbox(key="wr_to").select("left").run()
    assert not at.exception
    assert any("two objects in the top left quadrant" in w.value for w in at.warning)
    at.selectbox(key="wr_at").select("word 2: green").run()   # another change works again
    assert_clean(at)
    assert not at.warning


@pytest.mark.parametrize("stage,seed", [("early", "1"), ("upto3", "2")])
def test_every_stage_and_seed_shows_its_own_models_measured_now(stage, seed):
    at = open_page(PAGE)
    at.radio(key="wr_stage").set_value(stage).run()
    at.radio(key="wr_model").set_value(seed).run()
    assert_clean(at)
    early, suffix = stage == "early", "-upto3" if stage == "upto3" else ""
    models = {v: experiment.load_shipped(v + suffix, int(seed), early) for v in ("attention", "one-vector")}
    measured = [r for v, m in models.items() for r in experiment.measure(m, v, int(seed))]
    live = at.table[-1].value
    assert list(live["sentences right"]) == [f"{r.scene_accuracy:.1%}" for r in measured]
    scene = scenes.parse(scenes.EXAMPLES[0])
    assert np.allclose(attention_map(at), explain.draw(models["attention"], scene).weights, atol=1e-6)


def test_url_state_and_garbage_in_the_url():
    at = open_page(PAGE, {"wr_text": "a green triangle bottom right", "wr_stage": "early", "wr_objects": "2"})
    assert_clean(at)
    assert any("“a green triangle bottom right.”" in title for title in charts(at))
    assert at.radio(key="wr_stage").value == "early"
    bad = open_page(PAGE, {"wr_text": "x" * 5000, "wr_stage": "nonsense", "wr_objects": "99"})
    assert not bad.exception
    assert any("cut to the first" in w.value for w in bad.warning)
    assert any("is not one of" in w.value for w in bad.warning)
    assert bad.error and "does not know" in bad.error[0].value


def test_training_both_models_here_shows_curves_and_drawings_of_this_session():
    at = open_page(PAGE, {"wr_live_steps": "100", "seed": "7"})
    assert_clean(at)
    assert at.button(key="wr_live_start").label.startswith("Train both models here (100 steps each, seed 7)")
    estimate = " ".join(c.value for c in at.caption if c.value.startswith("Estimated"))   # timed before Train
    assert "for 100 steps (measured: both models: " in estimate and "curve points: " in estimate
    for run in (1,):                       # pressed twice in two sessions by the browser test
        at.button(key="wr_live_start").click().run()
        assert_clean(at)
        assert any(f"Run {run} finished 100 steps" in c.value for c in at.caption)
        summary = next(m.value for m in at.markdown if m.value.startswith("Trained here from seed 7 for 100 steps"))
        state = at.session_state["_wr_live"]
        four = {r.variant: r.scene_accuracy for r in state["rows"] if r.objects == 4}
        assert f"cross-attention **{four['attention']:.1%}**" in summary
        steps = sorted({r.step for r in state["curve"]})
        assert steps == [50, 100]
        assert "cross-attention drew" in at.table[-1].value.columns
