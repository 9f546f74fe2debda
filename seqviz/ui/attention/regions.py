"""Streamlit pieces of the words-to-regions page: the shipped models, the sentence box's last good
value, the one-word change, and the sentences and tables that read the page's numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from seqviz.attention import regions_experiment as experiment
from seqviz.attention import regions_explain as explain
from seqviz.attention import scenes
from seqviz.attention.words_to_regions import RegionsConfig, WordsToRegions
from seqviz.core import rng
from seqviz.ui import params

MAX_CHARS = 300            # the longest sentence of the grammar has 136 characters
LAST_GOOD = "_wr_last_good"
DRAWS = "_wr_random_draws"
STAGES = {
    "trained": f"trained ({experiment.SETTINGS.steps:,} steps, sentences of 1–4 objects)",
    "early": f"early (the same runs after {experiment.EARLY_STEP} steps)",
    "upto3": f"never read four objects ({experiment.SETTINGS.steps:,} steps, sentences of 1–3 objects)",
}


def experiments(stage: str) -> dict[str, tuple[str, bool]]:
    """The shipped files of a stage: {model variant: (experiment, early copy)}."""
    suffix = "-upto3" if stage == "upto3" else ""
    return {variant: (variant + suffix, stage == "early") for variant in ("attention", "one-vector")}


@st.cache_resource(show_spinner=False, max_entries=24)
def shipped(experiment_name: str, seed: int, early: bool = False) -> WordsToRegions:
    """A shipped model, shared by every session: eval mode, never trained."""
    return experiment.load_shipped(experiment_name, seed, early)


def models(stage: str, seed: int) -> dict[str, WordsToRegions]:
    return {variant: shipped(name, seed, early) for variant, (name, early) in experiments(stage).items()}


@st.cache_resource(show_spinner=False, max_entries=24)
def test_rows(stage: str, seed: int) -> list[experiment.QualityRow]:
    """Both shipped models of a stage and seed measured on the test set (deterministic, so shared)."""
    return [row for variant, model in models(stage, seed).items()
            for row in experiment.measure(model, variant, seed)]


@st.cache_resource(show_spinner=False, max_entries=24)
def test_attention(stage: str, seed: int) -> experiment.AttentionRow:
    """Where the attention model's quadrants look over every test sentence."""
    return experiment.measure_attention(models(stage, seed)["attention"], stage, seed)[0]


def put_sentence(text: str) -> None:
    st.session_state["wr_text"] = text


def put_random_sentence(seed: int) -> None:
    """The next sentence of the stream drawn from `seed` (the k-th press draws the k-th sentence)."""
    draws = st.session_state.get(DRAWS, 0)
    st.session_state[DRAWS] = draws + 1
    stream = rng.numpy_generator(seed)
    st.session_state["wr_text"] = scenes.sentence(scenes.random_scenes(draws + 1, stream)[-1])


def parse_or_last_good(text: str) -> scenes.Scene:
    """The typed sentence's scene; when it does not parse, a clear message and the last sentence
    that did."""
    try:
        scene = scenes.parse(text)
    except scenes.GrammarError as error:
        last = st.session_state.get(LAST_GOOD, scenes.EXAMPLES[0])
        st.error(f"The grammar cannot read this sentence: {params.plain(str(error))}\n\nShowing the "
                 f"last sentence that it could read: {params.literal(last, 200)}", icon=":material/error:")
        return scenes.parse(last)
    st.session_state[LAST_GOOD] = scenes.sentence(scene)
    return scene


def template_distances() -> tuple[float, float]:
    """The smallest and largest mean squared error between two different quadrants a scene can hold."""
    flat = scenes.templates().reshape(len(scenes.templates()), -1)
    pairs = [float(((flat[i] - flat[j]) ** 2).mean()) for i in range(len(flat)) for j in range(i)]
    return min(pairs), max(pairs)


def verdicts(result: explain.Result) -> list[str]:
    """What each quadrant holds by the nearest-quadrant rule, right or wrong, and how far the drawing
    is from the exact one (a blurred mix can be nearest to the right thing)."""
    return [f"{explain.describe(d)} {'✓' if ok else '✗'} (error {e:.3f})"
            for d, ok, e in zip(result.drawn, result.right, result.errors)]


def looks_sentence(looks: list[explain.QuadrantLook]) -> str:
    held = [look for look in looks if look.own_words is not None]
    empty = [look for look in looks if look.own_words is None]
    text = ("On this sentence, " + "; ".join(
        f"the **{look.quadrant}** quadrant (a {look.holds}) puts **{look.own_words:.0%}** of its attention on "
        f"the five words of its own object" for look in held) + ".")
    if empty:
        text += " The empty quadrants read most: " + "; ".join(
            f"{look.quadrant}: *{look.top_word}*, {look.top_weight:.0%}" for look in empty) + "."
    return text


def _reset_if_gone(key: str, options: list[str], default: str) -> None:
    """A remembered choice that the new sentence no longer offers goes back to the default."""
    if key in st.session_state and st.session_state[key] not in options:
        st.session_state[key] = default
        if key in st.query_params:
            del st.query_params[key]


def word_change(scene: scenes.Scene) -> tuple[int, scenes.Scene] | None:
    """Two pickers, a word of the sentence and its replacement; the changed scene, or None with a
    message when the change would put two objects in one quadrant."""
    options = explain.changeable(scene)
    labels = [f"word {p + 1}: {w}" for p, w, _ in options]
    default = labels[3]                        # the first object's column word
    _reset_if_gone("wr_at", labels, default)
    left, right = st.columns(2)
    picked = labels.index(params.choice("Word to change", labels, default, key="wr_at", container=left,
                                        widget="selectbox"))
    position, word, category = options[picked]
    others = [w for w in explain.CATEGORIES[category] if w != word]
    _reset_if_gone("wr_to", others, others[0])
    new_word = params.choice("Replace it with", others, others[0], key="wr_to", container=right,
                             widget="selectbox")
    try:
        return position, explain.change_word(scene, position, new_word)
    except scenes.GrammarError as error:
        st.warning(f"That change cannot be drawn: {params.plain(str(error))}. Pick another word.",
                   icon=":material/block:")
        return None


def _phrase(position: int) -> range:
    """The word positions of the object phrase that holds `position`."""
    return scenes.phrase_positions(position // (scenes.PHRASE + 1))


def _on_phrase(result: explain.Result, phrase: range) -> np.ndarray:
    return result.weights[:, phrase.start:phrase.stop].sum(axis=1)          # (4,)


def moves_table(before: explain.Result, after: explain.Result, position: int) -> pd.DataFrame:
    """Per quadrant: its weight on the changed object's five words, and its most-read word, before and after."""
    phrase = _phrase(position)
    def top(result: explain.Result) -> list[str]:
        return [f"{result.words[i]} (word {i + 1}) {result.weights[q, i]:.2f}"
                for q, i in enumerate(result.weights.argmax(axis=1))]
    return pd.DataFrame({
        "quadrant": scenes.QUADRANT_NAMES,
        f"weight on words {phrase.start + 1}–{phrase.stop}: before": [f"{w:.2f}" for w in _on_phrase(before, phrase)],
        f"weight on words {phrase.start + 1}–{phrase.stop}: after": [f"{w:.2f}" for w in _on_phrase(after, phrase)],
        "most-read word: before": top(before), "most-read word: after": top(after),
        "drew: before": verdicts(before), "drew: after": verdicts(after)})


def moves_sentence(before: explain.Result, after: explain.Result, position: int) -> str:
    phrase = _phrase(position)
    was, now = _on_phrase(before, phrase), _on_phrase(after, phrase)
    change = now - was
    up, down = int(change.argmax()), int(change.argmin())
    told = (f"Changing *{before.words[position]}* to *{after.words[position]}* (word {position + 1}), and watching "
            f"the weight on that object's five words (words {phrase.start + 1}–{phrase.stop}): ")
    if max(abs(change)) < 0.1:
        return told + (f"it hardly moves (the largest change is {max(abs(change)):.2f}). The object stays in its "
                       "quadrant, which reads the same words and now finds another colour or shape in them.")
    return told + (f"it rose most in the **{scenes.QUADRANT_NAMES[up]}** quadrant ({was[up]:.2f} → {now[up]:.2f}) "
                   f"and fell most in the **{scenes.QUADRANT_NAMES[down]}** quadrant ({was[down]:.2f} → "
                   f"{now[down]:.2f}).")


def _spread(values: list[float], digits: int = 1) -> str:
    return f"{np.mean(values):.{digits}%} ({min(values):.{digits}%}–{max(values):.{digits}%})"


def _final(rows: tuple[experiment.QualityRow, ...], name: str, objects: int, field: str = "scene_accuracy") -> str:
    return _spread([getattr(r, field) for r in rows if r.variant == name and r.objects == objects])


def first_step_at(curves: tuple[experiment.CurveRow, ...], name: str, seed: int, objects: int,
                  level: float = 0.99) -> int | None:
    """The first evaluated step at which `level` of the test sentences with `objects` objects are right."""
    return next((r.step for r in sorted(curves, key=lambda r: r.step)
                 if r.experiment == name and r.seed == seed and r.objects == objects and r.scene_accuracy >= level),
                None)


def lowest_after(curves: tuple[experiment.CurveRow, ...], name: str, objects: int, step: int) -> tuple[float, int]:
    """The lowest share right (and its seed) at any evaluation after `step`."""
    row = min((r for r in curves if r.experiment == name and r.objects == objects and r.step > step),
              key=lambda r: r.scene_accuracy)
    return row.scene_accuracy, row.seed


def ablation_text(rows: tuple[experiment.QualityRow, ...], curves: tuple[experiment.CurveRow, ...],
                  early: dict[int, list[experiment.QualityRow]]) -> str:
    """The answer, from the shipped tables (every seed) and the early models measured now (`early`: seed -> rows)."""
    seeds = sorted(early)
    steps = {name: [first_step_at(curves, name, s, 4) for s in seeds] for name in ("attention", "one-vector")}
    one_step = [first_step_at(curves, "one-vector", s, 1) for s in seeds]
    def at_early(variant: str, objects: int, field: str = "scene_accuracy") -> str:
        return _spread([getattr(r, field) for s in seeds for r in early[s]
                        if r.variant == variant and r.objects == objects])
    listed = {name: ", ".join(map(str, values)) for name, values in steps.items()}
    dip, dip_seed = lowest_after(curves, "one-vector-upto3", 4, 1000)
    steady, _ = lowest_after(curves, "attention-upto3", 4, 400)
    def after_reaching(name: str) -> tuple[float, int, int]:
        """The lowest share right (with its seed and step) once a seed has reached 99 %."""
        first = dict(zip(seeds, steps[name]))
        return min((r.scene_accuracy, r.seed, r.step) for r in curves if r.experiment == name and r.objects == 4
                   and first.get(r.seed) is not None and r.step > first[r.seed])
    late, held = after_reaching("one-vector"), after_reaching("attention")[0]
    stays = "stays at 100 %" if steady >= 0.9995 else f"stays at or above {steady:.0%}"
    every = ", ".join(map(str, seeds))
    return (
        f"Every figure is a mean over seeds {every} (lowest–highest), on {experiment.TEST_PER_COUNT} test "
        "sentences per number of objects.\n\n"
        f"**Trained to the end** ({experiment.SETTINGS.steps:,} steps), both models draw the four-object test "
        f"sentences right: cross-attention {_final(rows, 'attention', 4)}, one vector {_final(rows, 'one-vector', 4)}. "
        f"In a grammar this small, one vector of {RegionsConfig().width} numbers has room for four objects.\n\n"
        "**The difference is how soon.** Steps until 99 % of the four-object sentences are right, seed by seed: "
        f"cross-attention {listed['attention']}; one vector {listed['one-vector']} "
        f"(and {', '.join(map(str, one_step))} for one-object sentences). Having got there, the one-vector model "
        f"can fall back: as low as {late[0]:.0%} (seed {late[1]}, step {late[2]:,}) before recovering, while "
        f"cross-attention never drops below {held:.0%} once it has reached 99 %. After {experiment.EARLY_STEP} steps "
        f"(the *early* models), one vector draws {at_early('one-vector', 1)} of one-object sentences right but "
        f"only {at_early('one-vector', 4)} of four-object ones; cross-attention draws {at_early('attention', 4)}. "
        "Of the objects in four-object sentences, the early one-vector model draws "
        f"{at_early('one-vector', 4, 'swapped')} as another object of the same sentence, "
        f"{at_early('one-vector', 4, 'colour_wrong')} in a wrong colour and "
        f"{at_early('one-vector', 4, 'shape_wrong')} as a wrong shape. One vector must learn which colour and shape go "
        "with which place; each attention quadrant simply reads its own object's words.\n\n"
        "**Sentences longer than any it read.** Trained on one to three objects only, on four-object sentences: "
        f"cross-attention {_final(rows, 'attention-upto3', 4)}, one vector {_final(rows, 'one-vector-upto3', 4)}. "
        f"The one-vector model's score on them wanders during training (as low as {dip:.0%}, seed {dip_seed}, "
        f"after step 1,000); cross-attention's {stays} after step 400.")


def rows_table(live: list[experiment.QualityRow]) -> pd.DataFrame:
    return pd.DataFrame([{
        "model": "cross-attention" if r.variant == "attention" else "one vector",
        "objects per sentence": str(r.objects or "all"),
        "sentences right": f"{r.scene_accuracy:.1%}", "objects right": f"{r.object_accuracy:.1%}",
        "empty quadrants left empty": f"{r.empty_accuracy:.1%}", "objects swapped": f"{r.swapped:.1%}",
        "pixel error (MSE)": f"{r.pixel_mse:.5f}"}
        for r in live])


def attention_text(rows: tuple[experiment.AttentionRow, ...], live: experiment.AttentionRow, seed: int) -> str:
    shipped = sorted((r for r in rows if r.experiment == "attention" and r.objects == 0), key=lambda r: r.seed)
    by_seed = "; ".join(f"seed {r.seed}: own object {r.own_phrase:.0%}, place words {r.own_place:.0%}, "
                        f"empty on the full stop {r.empty_on_stop:.0%}" for r in shipped)
    return (
        f"Measured now on the model shown (training seed {seed}), over the {len(experiment.test_set().scenes)} "
        f"test sentences: a quadrant that holds an object puts **{live.own_phrase:.1%}** of its attention on the "
        f"five words of its own object, {live.own_place:.1%} on its two place words alone; its most-read word is "
        f"one of its own object's words in {live.top_word_own:.1%} of cases. An empty quadrant puts "
        f"{live.empty_on_stop:.0%} of its attention on the full stop.\n\nThe trained models of every seed "
        f"({by_seed}) all read their own object's words, but *which* of the five words differs from seed to seed. "
        "A word's vector comes from a bidirectional GRU, so it also carries its neighbours: the vector of "
        "*circle* in *a red circle top left* already knows *top left*. The map says where a quadrant reads, "
        "not everything the vector it reads has taken in.")


def model_text(**models: WordsToRegions) -> str:
    """How the two models are built, with their parameter counts."""
    attention_model, one_vector = models["attention"], models["one-vector"]
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    return (
        "Words are embedded and read by a bidirectional GRU (one vector per word, "
        f"{attention_model.config.width} numbers). **Cross-attention:** four learnt queries, one per quadrant, "
        r"attend over the word vectors (keys and values are two linear maps of them, "
        r"$\operatorname{softmax}(Q K^\top / \sqrt{d})\, V$, the "
        "one attention function of seqviz). **One vector:** the GRU's last state in each direction is the "
        "sentence; each quadrant's code is that vector with the quadrant's own learnt embedding, through a "
        "linear layer. In both, one decoder (an MLP shared by the quadrants) draws a 16 × 16 patch from a "
        f"code. Parameters: {count(attention_model):,} (cross-attention), {count(one_vector):,} (one vector). "
        f"Training: {experiment.SETTINGS.steps:,} Adam steps of {experiment.SETTINGS.batch} fresh sentences "
        f"(learning rate {experiment.SETTINGS.lr}), per-pixel binary cross-entropy; "
        "`python -m seqviz.attention.regions_experiment --seeds 0 1 2` makes every shipped file.")


def seen_text(rows: tuple[experiment.QualityRow, ...], seed: int) -> str:
    """How many test sentences of each length also came up in training (the trained models of `seed`)."""
    mine = sorted((r for r in rows if r.variant == "attention" and r.seed == seed and r.objects > 0),
                  key=lambda r: r.objects)
    return ("Test sentences that also came up in the 3,000 training steps of seed "
            f"{seed}: " + ", ".join(f"{r.seen_in_training:.0%} with {r.objects} object(s)" for r in mine) + ".")
