"""Video captioning, live and offline (S2VT, Venugopalan et al. 2015; Show, Attend and Tell,
Xu et al. 2015; wait-k and Average Lagging, Ma et al. 2019).

One tab per question; only the open tab runs (st.tabs bound to the URL)."""

import streamlit as st

from seqviz.captioning import experiment
from seqviz.ui import cards, params, presets, registry
from seqviz.ui.captioning import attention, clips, player, shipped, testset
from seqviz.ui.captioning import cost as cost_ui

registry.ensure_router()

TABS = ["Watch a clip", "Attention", "Over the test set", "Cost"]

st.title("Video captioning, live and offline")
presets.picker(__file__)
st.markdown(
    "Three captioners describe short clips of moving shapes (“the red circle moves left then the blue square "
    "appears”). **Per-frame** captions the average of what a small CNN sees in each frame, so it cannot see "
    "order or motion. **Offline** (S2VT-style) runs an LSTM over the whole clip in both directions and writes "
    "with temporal attention: it must wait for the end. **Live** runs a one-direction LSTM as the frames arrive "
    "and writes under a wait-k policy (the first word after k frames, then one per frame) or re-decodes at "
    f"every frame. All three are shipped models, each trained from {len(experiment.SEEDS)} seeds on training clips; "
    "the clips here come from the test split, which training never draws from.")
shown = clips.pick_clip()
if shown.events is None:
    st.info("Out of domain: the captioners learned coloured circles, squares and triangles on a dark "
            "background, and know only those words. Whatever they write for this video names shapes of "
            "that world.", icon=":material/travel_explore:")
c = st.columns([1, 2, 1.3, 2])
seed = int(params.choice("Training seed", [str(s) for s in experiment.SEEDS], str(experiment.SEEDS[0]),
                         key="cap_seed", container=c[0], horizontal=True,
                         help=f"Every captioner was trained from {len(experiment.SEEDS)} seeds; conclusions should "
                              "hold for all."))
missing = [path.name for path in experiment.shipped_files(seed) if not path.is_file()]
if missing:
    st.error(f"The shipped captioners of seed {seed} are missing ({', '.join(missing)}). Make them with "
             f"`python -m seqviz.captioning.experiment --seeds {seed}` (see models/MODELS.md), or pick another "
             "training seed.", icon=":material/error:")
    st.stop()
total = len(shown.frames)
wait_k = params.slider("Live: wait-k (k frames before the first word)", 1, total, 3, key="cap_k", container=c[1])
redecode = params.toggle("Re-decode", False, key="cap_redecode", container=c[2],
                         help="Re-decode at every frame: from frame k on, the live model writes its whole "
                              "caption again after every frame; words that change are revisions.")
variant = params.choice("Offline model", list(shipped.OFFLINE_VARIANTS), "offline", key="cap_variant",
                        container=c[3], widget="selectbox",
                        help="; ".join(f"{name}: {words}" for name, words in shipped.OFFLINE_VARIANTS.items()))

tabs = dict(zip(TABS, st.tabs(TABS, key="cap_tab", bind="query-params")))
if tabs["Watch a clip"].open:
    with tabs["Watch a clip"], cards.question_card(
        "What does each captioner say at this frame of the clip?",
        "The live caption grows as frames arrive: under wait-k its word i is written after k + i − 1 frames "
        "and never changed, so a word written before the event it names has happened can only be a guess; "
        "re-decoding writes the whole caption again at every frame and revises such guesses. The offline "
        "captioner reads the clip in both directions, so it has nothing to say before the last frame. The "
        "per-frame captioner sees one frame (or the average of the frames so far), never their order: a shape "
        "moving left and the same frames played backwards average to the same thing."):
        captions = player.Captions(shipped.live_stream(seed, shown.key, shown.frames, wait_k, redecode),
                                   shipped.decoded(variant, seed, shown.key, shown.frames).caption,
                                   *shipped.per_frame(seed, shown.key, shown.frames), wait_k, redecode)
        player.watch(shown, captions)
        st.markdown(player.lagging_sentence(captions, total) + " " + player.pair_sentence(shown, variant, seed))
if tabs["Attention"].open:
    with tabs["Attention"], cards.question_card(
        "Which frames does each word look at, and what changes with hard attention?",
        "At word $t$ the decoder scores every frame $i$ against its previous state, weighs the frames "
        "and reads their weighted sum:\n\n"
        "$$\n" r"e_{ti} = f_\text{att}(s_{t-1}, h_i), \qquad \alpha_t = \operatorname{softmax}_i(e_t), "
        r"\qquad c_t = \sum_i \alpha_{ti} h_i." "\n$$"
        "\n\nAdditive scoring (Bahdanau) is "
        r"$v^\top \tanh(W s + U h)$, multiplicative (Luong) $s^\top W h$. Soft attention reads the weighted "
        "average; hard attention reads one frame, the most weighted or one drawn from $\\alpha$ (it would need "
        "REINFORCE to be "
        "trained; these models were trained soft and are only decoded hard). The live model's words cannot "
        "look at frames it has not read yet (grey).", expanded=True):
        mode = params.choice("Attention at inference", list(attention.MODE_NAMES), "soft", key="cap_attention",
                             horizontal=True, format_func=attention.MODE_NAMES.get)
        attention.heatmaps(shown, variant, seed, mode, wait_k, redecode)
        st.markdown("**This clip under each mode**")
        st.dataframe(attention.modes_table(shown, variant, seed, wait_k, redecode), hide_index=True)
        attention.test_set_modes(variant, seed)
        st.markdown(attention.variant_sentence())
if tabs["Over the test set"].open:
    with tabs["Over the test set"], cards.question_card(
        "How good is each captioner after part of the clip, and what does waiting buy?",
        f"Each point is the mean over the {len(experiment.SEEDS)} training seeds on the test clips, with a bar from "
        "the worst to "
        "the best seed. Exact event order is the strictest measure: the caption must name every event of the "
        "clip in the order it happens. A captioner that knows the events but guesses their order scores the "
        "dashed line. Average Lagging (Ma et al. 2019) is how many frames, on average, a word comes after "
        "an ideal writer that spreads the caption's words evenly over the clip (negative: ahead of it), "
        "counted up to the first word written after the last frame.", expanded=True):
        testset.test_set_card(wait_k)
if tabs["Cost"].open:
    with tabs["Cost"], cards.question_card(
        "Can each captioner keep up with a live video, and what does it hold in memory?",
        "A live system has 1/30 s per frame at 30 fps: if it needs more it falls behind the camera. The "
        "offline and per-frame captioners run once on the whole clip, after it has ended. Times and memory "
        "are measured here, on the device chosen in the sidebar, when you press Measure.", expanded=True):
        cost_ui.cost_card(shown, variant, seed, wait_k, redecode)

st.caption("Shipped models and how they were trained and measured: models/MODELS.md; the command for one model: "
           f"`{experiment.command('offline', 0)}`.")
