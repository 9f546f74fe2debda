"""Where the captioners look (Show, Attend and Tell): the attention of each word over the frames,
for the offline model and for the live one under its wait-k (frames it had not read drawn grey),
the frames a chosen word looked at most, and what hard attention at inference changes."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from seqviz.captioning import inference, metrics, summary, timeline
from seqviz.captioning.inference import Decoded
from seqviz.captioning.models import ATTENTION_MODES
from seqviz.core import timing
from seqviz.core.train import Progress
from seqviz.plots import captioning as plots
from seqviz.recurrent.cells import run_sequential
from seqviz.ui import params
from seqviz.ui.captioning import shipped
from seqviz.ui.captioning.clips import Shown
from seqviz.ui.charts import show_chart
from seqviz.ui.training import Estimate, EstimatePart, run_training, session_estimate

MODE_NAMES = {"soft": "soft (weighted average)", "argmax": "hard: the frame of largest α",
              "sample": "hard: a frame drawn from α"}
WORD_KEY = "cap_word"
_ASKED = "_cap_modes_asked"          # (variant, seed) -> {mode: ModeScore} this session computed (all or some)


def _live_wait_k(wait_k: int, redecode: bool) -> int | None:
    """The wait-k the live caption is decoded under (re-decoding's final caption reads everything)."""
    return None if redecode else wait_k


def captions_of(shown: Shown, variant: str, seed: int, mode: str, wait_k: int, redecode: bool
                ) -> tuple[Decoded, Decoded]:
    """The offline variant's and the live model's caption of the clip under one attention mode."""
    offline = shipped.decoded(variant, seed, shown.key, shown.frames, mode)
    live = shipped.decoded("live", seed, shown.key, shown.frames, mode, _live_wait_k(wait_k, redecode))
    return offline, live


def _choose_word(container, labels: list[str]) -> int:
    """The word picker, bound to the URL; when the caption changes it keeps the word's place."""
    current = st.session_state.get(WORD_KEY)
    if isinstance(current, str) and current not in labels:
        place = current.split(" ", 1)[0]
        match = [label for label in labels if label.split(" ", 1)[0] == place]
        st.session_state[WORD_KEY] = match[0] if match else labels[0]
    choice = params.choice("Word", labels, labels[0], key=WORD_KEY, container=container, widget="selectbox",
                           help="Its row is boxed on the heatmap, a dashed line marks the frame it looked at most, "
                                "and its most-attended frames are shown below.")
    return labels.index(choice)


def heatmaps(shown: Shown, variant: str, seed: int, mode: str, wait_k: int, redecode: bool) -> None:
    """Both heatmaps, the word picker and the chosen word's top frames."""
    offline, live = captions_of(shown, variant, seed, mode, wait_k, redecode)
    total = len(shown.frames)
    pick_model, pick_word = st.columns([1, 2])
    which = params.choice("Words of", ["offline", "live"], "offline", key="cap_att_of", horizontal=True,
                          container=pick_model)
    chosen_caption = offline if which == "offline" else live
    labels = plots.row_labels(chosen_caption.words, len(chosen_caption.attention))
    row = _choose_word(pick_word, labels)
    alpha = chosen_caption.attention[row]
    tops = timeline.top_frames(alpha, 4)
    strongest = tops[0][0] if tops else None
    left, right = st.columns(2)
    policy = ("re-decoding: final caption, all frames read" if redecode
              else f"wait-{wait_k}: word i reads k + i − 1 frames")
    title = f"Offline, {mode}" if variant == "offline" else f"Offline ({variant}), {mode}"
    with left:
        show_chart(plots.attention_heatmap(offline.attention, offline.words, title,
                                           chosen=row if which == "offline" else None,
                                           frame=strongest if which == "offline" else None),
                   key="cap_offline_attention", filename="offline_attention")
        st.markdown(f"Offline writes: **{offline.caption or '(nothing)'}**{_verdict(offline.caption, shown)}")
    with right:
        readable = timeline.readable_frames(len(live.attention), total, _live_wait_k(wait_k, redecode))
        show_chart(plots.attention_heatmap(live.attention, live.words, f"Live, {mode}, {policy}",
                                           readable=readable, chosen=row if which == "live" else None,
                                           frame=strongest if which == "live" else None),
                   key="cap_live_attention", filename="live_attention")
        st.markdown(f"Live writes: **{live.caption or '(nothing)'}**{_verdict(live.caption, shown)}")
    show_chart(plots.top_frame_panels(shown.frames, tops, f"The frames “{labels[row]}” ({which}) looked at most"),
               key="cap_top_frames", filename="top_frames")
    spent = sum(weight for _, weight in tops)
    live_k = _live_wait_k(wait_k, redecode) if which == "live" else None
    could_read = int(timeline.readable_frames(len(chosen_caption.attention), total, live_k)[row].sum())
    text = (f"These {len(tops)} frames hold {spent:.0%} of the word's attention; uniform attention over the "
            f"{could_read} frames it could read would give each {1 / could_read:.2f}.")
    if mode == "argmax" and strongest is not None:
        text += f" Under argmax attention the word read frame {strongest} alone (the dashed line)."
    elif mode == "sample":
        text += " Under sampled attention the word read one frame drawn with these weights."
    st.caption(text)


def summary_name(variant: str) -> str:
    return shipped.OFFLINE_VARIANTS.get(variant, variant)


def _verdict(caption: str, shown: Shown) -> str:
    if shown.events is None:
        return ""
    return " ✓ right" if metrics.order_correct(caption, shown.events) else " ✗ wrong"


def modes_table(shown: Shown, variant: str, seed: int, wait_k: int, redecode: bool) -> pd.DataFrame:
    """This clip's captions under each attention mode at inference, each marked when it differs
    from the soft caption and, for a clip with a truth, right or wrong."""
    soft = captions_of(shown, variant, seed, "soft", wait_k, redecode)
    rows = []
    for mode in ATTENTION_MODES:
        found = captions_of(shown, variant, seed, mode, wait_k, redecode)
        row = {"attention": MODE_NAMES[mode]}
        for name, caption, reference in zip(("offline", "live"), found, soft):
            marks = [] if caption.caption == reference.caption or mode == "soft" else ["changed"]
            if shown.events is not None:
                marks.append("✓ right" if metrics.order_correct(caption.caption, shown.events) else "✗ wrong")
            row[name] = caption.caption + (f"  ({', '.join(marks)})" if marks else "")
        rows.append(row)
    return pd.DataFrame(rows)


PROBE_CLIPS = 10          # test clips captioned to time the estimate


def modes_estimate(variant: str, seed: int) -> Estimate:
    """The time of captioning every test clip under each mode: PROBE_CLIPS clips captioned
    now (soft attention, after a warm-up of one clip), scaled to the test set, × the modes."""
    captioner, clips = shipped.model(variant, seed), shipped.tests()
    probe = clips.frames[:PROBE_CLIPS]
    once = run_sequential(lambda: timing.measure(lambda: inference.captions(captioner, probe), repeats=1,
                                                 warmup=0))
    per_mode = once.median / len(probe) * len(clips.clips)
    return Estimate(tuple(EstimatePart(MODE_NAMES[mode], per_mode, 1, 1) for mode in ATTENTION_MODES), "cpu",
                    unit="mode", basis=f"{len(probe)} test clips captioned in {once.median * 1000:,.0f} ms, scaled "
                                       f"to the {len(clips.clips)} test clips, × {len(ATTENTION_MODES)} modes")


def _modes_job(variant: str, seed: int, store: dict):
    """Caption the test set under each mode in turn (one report per mode); the scores so far go
    to store[(variant, seed)] as they come, so a Stop keeps the modes done."""
    def run(on_progress, should_stop):
        scores, start = {}, time.perf_counter()
        store[(variant, seed)] = scores
        for index, mode in enumerate(ATTENTION_MODES):
            if should_stop():
                break
            scores[mode] = shipped.mode_score(variant, seed, mode)
            on_progress(Progress(index + 1, len(ATTENTION_MODES), {"order right (%)": 100 * scores[mode].order},
                                 time.perf_counter() - start))
        return scores
    return run


def test_set_modes(variant: str, seed: int) -> None:
    """Order accuracy under each mode on the test clips, computed when asked (a job: estimate
    before, live scores while it runs, the modes done kept after Stop)."""
    store = st.session_state.setdefault(_ASKED, {})
    run_training("cap_modes", _modes_job(variant, seed, store), label="Compute on the test set", unit="mode",
                 metric="order right (%)",
                 estimate=session_estimate("cap_modes", (variant, seed), lambda: modes_estimate(variant, seed)),
                 describe=lambda p: f"{p.step} of {p.total} modes captioned · {p.elapsed_s:.1f} s")
    scores = store.get((variant, seed))
    if scores is None:
        st.caption(f"Press the button to caption the {len(shipped.tests().clips)} test clips under each mode "
                   f"with the {summary_name(variant)} model of seed {seed}.")
        return
    if len(scores) < len(ATTENTION_MODES):
        st.warning(f"Partial result: stopped after {len(scores)} of {len(ATTENTION_MODES)} modes; the modes "
                   "captioned are shown.", icon=":material/stop_circle:")
    if not scores:
        return
    st.dataframe(pd.DataFrame([{"attention": MODE_NAMES[m], "order right, all clips": summary.percent(s.order),
                                "order right, 2+ events": summary.percent(s.order_multi),
                                "captions unlike soft's": summary.percent(s.changed)}
                               for m, s in scores.items()]), hide_index=True)
    if len(scores) < len(ATTENTION_MODES):
        return
    soft, argmax, sample = (scores[m] for m in ATTENTION_MODES)
    st.markdown(
        f"On the test clips the {summary_name(variant)} model of seed {seed} names the order right on "
        f"{summary.percent(soft.order_multi)} of the multi-event clips with soft attention, "
        f"{summary.percent(argmax.order_multi)} reading only the frame of largest weight and "
        f"{summary.percent(sample.order_multi)} reading a frame drawn from the weights; "
        f"{summary.percent(argmax.changed)} and {summary.percent(sample.changed)} of its captions change. "
        + _hard_verdict(soft.order_multi, min(argmax.order_multi, sample.order_multi)))


def _hard_verdict(soft: float, hard: float) -> str:
    """What the shown percentages say about hard attention at inference (compared as shown)."""
    soft, hard = round(100 * soft), round(100 * hard)
    if hard < soft:
        return ("Hard reading loses accuracy: the model was trained with soft attention, so a single frame "
                "in place of the weighted average is an input it never saw in training.")
    if hard == soft:
        return "The share it gets right is the same under the three modes on these clips."
    return "Here hard reading does not lose accuracy on these clips."


def variant_sentence() -> str:
    """Additive against multiplicative scoring and the optical-flow stream, from the shipped table."""
    rows = shipped.quality_rows()
    if rows is None:
        return ""
    found = {name: summary.at_fraction(rows, name, "order_multi") for name in shipped.OFFLINE_VARIANTS}
    if not all(found.values()):
        return ""
    parts = [f"{summary_name(name)}: {summary.percent(s.mean)} (seeds {summary.percent(s.low)}–"
             f"{summary.percent(s.high)})" for name, s in found.items()]
    return ("On the multi-event test clips, after the whole clip, the offline variants name the order right on: "
            + "; ".join(parts) + ". Pick one with *Offline model* above to see its attention.")
