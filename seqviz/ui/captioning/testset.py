"""The shipped captioners over the test clips (models/caption_seeds.csv, caption_waitk.csv):
quality against the share of the clip seen, and the quality-latency curve of wait-k, with the
sentences that read them, every number taken from the tables."""

from __future__ import annotations

import streamlit as st

from seqviz.captioning import experiment, metrics, summary
from seqviz.plots import captioning as plots
from seqviz.ui import params
from seqviz.ui.captioning import shipped
from seqviz.ui.charts import show_chart

KINDS = ("live", "offline", "per-frame")
MISSING = ("The shipped measurements ({name}) are not in models/ on this server: run "
           "`python -m seqviz.captioning.experiment` to make them.")


CHOICES = {"order, 2+ events": "order_multi", "order, all clips": "order", "order, late clips": "order_late",
           "order pairs, both right": "order_pairs", "BLEU-4": "bleu4", "ROUGE-L": "rouge_l", "CIDEr": "cider"}


def metric_picker(container=st) -> str:
    """The metric of both figures: a QualityRow field."""
    label = params.choice("Metric", list(CHOICES), "order, 2+ events", key="cap_metric", container=container,
                          widget="selectbox",
                          help="Order: the caption names the clip's events exactly, in the order they happen "
                               "(on clips of two or more events, all clips, late clips; order pairs: both clips "
                               "of a pair right). BLEU-4, ROUGE-L and CIDEr compare words with the true caption.")
    return CHOICES[label]


def _share(value: float) -> str:
    return summary.percent(value)


def _compare(value: float, bar: float) -> str:
    if round(100 * value) < round(100 * bar):
        return "below"
    if round(100 * value) > round(100 * bar):
        return "above"
    return "level with"


def fraction_sentences(rows) -> str:
    """What the fraction figure says about event order, with the table's numbers."""
    final = {kind: summary.at_fraction(rows, kind, "order_multi") for kind in KINDS}
    guess = summary.guess_bar(rows)
    parts = []
    if all(final.values()) and guess is not None:
        per_frame = final["per-frame"].mean
        parts.append(f"After the whole clip, offline names the order right on {_share(final['offline'].mean)} of "
                     f"the multi-event test clips, live on {_share(final['live'].mean)} and per-frame on "
                     f"{_share(per_frame)}, which is {_compare(per_frame, guess)} the {_share(guess)} that guessing "
                     "the order of the right events gives (mean of the seeds).")
    pairs = {kind: summary.at_fraction(rows, kind, "order_pairs") for kind in ("per-frame", "offline")}
    if all(pairs.values()):
        w = pairs["per-frame"]
        text = (f"On the order pairs per-frame is right on both clips in {_share(w.mean)} of the pairs "
                f"(offline: {_share(pairs['offline'].mean)}): both clips hold the same frames, so the average "
                "it reads is the same for both (up to rounding) and so is its caption, which can be right for "
                "one of them only.")
        if w.high > 0:
            text += f" Its best seed: {_share(w.high)}."
        parts.append(text)
    late = {kind: (summary.at_fraction(rows, kind, "order_late", 0.75), summary.at_fraction(rows, kind, "order_late"))
            for kind in ("live", "offline")}
    if all(a and b for a, b in late.values()):
        parts.append(f"On the late clips (the event starts in the last quarter) after 75 % of the clip live is right "
                     f"on {_share(late['live'][0].mean)} and offline on {_share(late['offline'][0].mean)}; after the "
                     f"whole clip on {_share(late['live'][1].mean)} and {_share(late['offline'][1].mean)}.")
    return " ".join(parts)


def fraction_figure(rows, metric: str) -> None:
    curves = summary.by_fraction(rows, metric, KINDS)
    percent = metric in summary.ORDER_METRICS
    guess = None
    if metric == "order_multi":
        guess = summary.guess_bar(rows)
    elif metric == "order":
        guess = metrics.guess_order_accuracy(shipped.tests().truths[:len(shipped.tests().clips)
                                                                   - 2 * experiment.ORDER_PAIRS])
    show_chart(plots.quality_by_fraction(curves, summary.METRICS[metric], percent=percent, guess=guess),
               key="cap_fraction", filename="caption_quality_by_fraction")


def latency_sentences(rows, quality_rows, frames: int) -> str:
    curve = summary.wait_k_curve(rows, "order_multi")
    if not curve.ks:
        return ""
    first, last = 0, len(curve.ks) - 1
    text = (f"With k = {curve.ks[first]} the live model writes its first word after {curve.ks[first]} frame(s) "
            f"(Average Lagging "
            f"{curve.lagging[first].mean:.1f} frames) and names the order of multi-event clips right on "
            f"{_share(curve.quality[first].mean)}; with k = {curve.ks[last]} it waits for "
            f"{curve.ks[last]} frames (lagging {curve.lagging[last].mean:.1f}) and is right on "
            f"{_share(curve.quality[last].mean)}.")
    offline = summary.offline_point(quality_rows, "order_multi", frames) if quality_rows else None
    if offline is not None:
        text += f" Offline, at the end of the curve (lagging {offline[0]:.0f}), is right on {_share(offline[1].mean)}."
    redecode = summary.redecode_point(rows, "order_multi")
    if redecode is not None:
        text += (f" Re-decoding at every frame ends with the caption of the whole clip ({_share(redecode[1].mean)}) "
                 f"while its words, counted from their last revision, lag {redecode[0].mean:.1f} frames.")
    return text


def latency_figure(rows, quality_rows, metric: str, frames: int, wait_k: int) -> None:
    used = metric if metric in summary.WAIT_K_METRICS else "order_multi"
    if used != metric:
        st.caption(f"The wait-k table holds no “{summary.METRICS[metric]}”: showing "
                   f"“{summary.METRICS[used]}” here.")
    offline = summary.offline_point(quality_rows, used, frames) if quality_rows else None
    show_chart(plots.quality_latency(summary.wait_k_curve(rows, used), summary.METRICS[used],
                                     percent=used in summary.ORDER_METRICS, offline=offline,
                                     redecode=summary.redecode_point(rows, used), chosen_k=wait_k),
               key="cap_latency", filename="caption_quality_latency")


def test_set_card(wait_k: int) -> None:
    quality, waits = shipped.quality_rows(), shipped.wait_k_rows()
    metric = metric_picker()
    frames = len(shipped.tests().clips[0].frames)
    if quality is None:
        st.info(MISSING.format(name=experiment.QUALITY_CSV.name), icon=":material/table:")
    else:
        fraction_figure(quality, metric)
        st.markdown(fraction_sentences(quality))
    if waits is None:
        st.info(MISSING.format(name=experiment.WAIT_K_CSV.name), icon=":material/table:")
    else:
        latency_figure(waits, quality, metric, frames, wait_k)
        st.markdown(latency_sentences(waits, quality, frames))
