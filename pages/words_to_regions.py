"""Words to regions: four quadrant queries cross-attend to the words of a sentence, and draw."""

import numpy as np
import pandas as pd
import streamlit as st

from seqviz.attention import regions_experiment as experiment
from seqviz.attention import regions_explain as explain
from seqviz.attention import scenes
from seqviz.attention.words_to_regions import WordsToRegions
from seqviz.plots import memo
from seqviz.plots.attention import regions as region_plots
from seqviz.plots.vit import image_panels
from seqviz.ui import cards, params, presets, registry, sidebar
from seqviz.ui.attention import regions as ui
from seqviz.ui.attention import regions_live as live
from seqviz.ui.charts import show_chart

plots = memo.figures(region_plots)   # figures built once per input, for every session

registry.ensure_router()

st.title("Words to regions: cross-attention")
presets.picker(__file__)
st.markdown(
    "A tiny text-to-image model, trained for this page, reads a sentence such as *a red circle top "
    "left and a blue square bottom right* and draws a 32 × 32 picture. The picture is held as four "
    "codes, one per quadrant. With **cross-attention**, each quadrant owns a learnt query and reads a "
    "weighted mix of the encoded words; the weights are the map below. The **one-vector** model has the "
    "same word encoder and the same decoder, but each quadrant starts from one vector for the whole "
    "sentence. Both were trained on the same number of sentences (command and figures in models/MODELS.md).")

left, right = st.columns([3, 1])
stage = params.choice("Models", list(ui.STAGES), "trained", key="wr_stage", container=left,
                      format_func=ui.STAGES.__getitem__, horizontal=True)
seed = int(params.choice("Training seed", [str(s) for s in experiment.SEEDS], "0", key="wr_model",
                         container=right, horizontal=True))
models = ui.models(stage, seed)
examples = st.columns(len(scenes.EXAMPLES) + 1)
for i, (column, example) in enumerate(zip(examples, scenes.EXAMPLES)):
    column.button(f"Example {i + 1}", key=f"wr_example_{i}", on_click=ui.put_sentence, args=(example,),
                  help=example, width="stretch")
examples[-1].button("Random sentence", key="wr_random", on_click=ui.put_random_sentence,
                    args=(sidebar.seed(),), width="stretch", help="Drawn from the sidebar's seed")
text = params.text("Sentence (the grammar: a <colour> <shape> <top|bottom> <left|right>, joined by 'and')",
                   scenes.EXAMPLES[0], key="wr_text", max_chars=ui.MAX_CHARS)
scene = ui.parse_or_last_good(text)

attended = explain.draw(models["attention"], scene)
squeezed = explain.draw(models["one-vector"], scene)
asked = scenes.render(np.array([attended.asked]))[0]
show_chart(image_panels([("asked for (exact drawing)", asked), ("cross-attention drew", attended.picture),
                         ("one vector drew", squeezed.picture)], f"“{scenes.sentence(scene)}”", height=330),
           key="wr_pictures", filename="words_to_regions_pictures")
st.table(pd.DataFrame({
    "quadrant": scenes.QUADRANT_NAMES, "the sentence asks for": [explain.describe(i) for i in attended.asked],
    "cross-attention drew": ui.verdicts(attended), "one vector drew": ui.verdicts(squeezed)}), hide_index=True)
st.caption("What a model drew in a quadrant is the nearest (mean squared error) of the 13 things a "
           "quadrant can hold: empty, or one of 4 colours × 3 shapes. The rule is lenient: a blurred mix of "
           "two shapes counts as right when the right one is nearest, so each cell also gives the drawing's "
           "mean squared error against the exact quadrant (0 is exact; between two different quadrants "
           "it is {:.3f} to {:.3f}).".format(*ui.template_distances()))

looks = explain.looks(attended, scene)
show_chart(plots.quadrant_word_map(attended.weights, attended.words, scenes.QUADRANT_NAMES,
                                   "Cross-attention: how much each quadrant reads each word (rows sum to 1)"),
           key="wr_map", filename="quadrant_word_attention")
st.markdown(ui.looks_sentence(looks))

st.subheader("Change one word, watch the weight move")
change = ui.word_change(scene)
if change is not None:
    position, changed = change
    after = explain.draw(models["attention"], changed)
    show_chart(plots.quadrant_word_map(after.weights, after.words, scenes.QUADRANT_NAMES,
                                       f"After the change: “{scenes.sentence(changed)}”", marked=position),
               key="wr_map_after", filename="quadrant_word_attention_after")
    st.table(ui.moves_table(attended, after, position), hide_index=True)
    st.markdown(ui.moves_sentence(attended, after, position))
    show_chart(image_panels([("before", attended.picture), ("after", after.picture)],
                            "Cross-attention model, before and after the change", height=300),
               key="wr_pictures_after", filename="words_to_regions_pictures_after")

rows, curves = experiment.read_quality(), experiment.read_curves()
early = {s: ui.test_rows("early", s) for s in experiment.SEEDS}
with cards.question_card("Without attention: what goes wrong as a sentence names more objects?",
                         ui.ablation_text(rows, curves, early)):
    objects = params.slider("Objects per test sentence", 1, scenes.MAX_OBJECTS, scenes.MAX_OBJECTS, key="wr_objects")
    show_chart(plots.learning_curves(curves, objects, f"Test sentences of {objects} object(s) drawn entirely right, "
                                     "during training", early_step=experiment.EARLY_STEP),
               key="wr_curves", filename="learning_curves")
    show_chart(plots.accuracy_by_objects(rows, "scene_accuracy", "Trained on 1–3 objects only: test sentences "
                                         "drawn entirely right", "% of test sentences", suffix="-upto3"),
               key="wr_upto3", filename="trained_on_three")
    st.markdown(f"**Measured now**, the models chosen at the top ({ui.STAGES[stage]}, seed {seed}):")
    st.table(ui.rows_table(ui.test_rows(stage, seed)), hide_index=True)
    st.caption("The charts read models/regions_curves.csv and models/regions_seeds.csv, written by the same "
               "measurement during and after training. The test sentences come from a stream no training run "
               "reads, but short sentences are few, so they come up in training too. " + ui.seen_text(rows, seed))

with cards.question_card(
        "Does attention learn first from your seed too? Train both models here",
        "Both models start from the sidebar's seed and read the same sentences in the same order, one step "
        "each in turn, on this machine's CPU. Every 50 steps both draw 200 test sentences (50 of each length) "
        "and the curves grow as they are measured; Stop keeps what has been trained so far. At the end both "
        f"are measured on the whole test set ({len(experiment.test_set().scenes)} sentences) and draw the "
        "sentence at the top of the page. What you train stays in your session; the shipped models do not "
        "change."):
    live.live_training(sidebar.seed(), scene)

with cards.question_card("Where does each quadrant look, over the whole test set?",
                         ui.attention_text(experiment.read_attention(), ui.test_attention(stage, seed), seed)):
    cards.show_code(experiment.measure_attention)

with cards.question_card("How is the model built and trained?", ui.model_text(**models)):
    cards.show_code(WordsToRegions.codes, WordsToRegions.forward, scenes.parse, experiment.train)
