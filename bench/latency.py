"""Server-side rerun latency after a widget change, for every page: p50 / p95 / max.

For each page, moves its widgets to random allowed values (seeded) --changes times
(at least 40) under Streamlit's AppTest and times each rerun with seqviz.core.timing.
The baseline is a page with one slider and nothing else, rerun the same way in the same
process, so the ratio tells how much of the time is the page's own work. The Gradients
page is also timed at its default settings, with only the sidebar seed changed before
each rerun (fresh weights, so every model is recomputed: nothing comes from a cache).

The ViT page is timed twice more: after changes that need no new prediction (the frame on
the Prediction tab; frame, layer, head, patch row and column on the Attention tab), and
at its default settings with the sidebar seed changed before each rerun (a new game, so
the model predicts the whole video again and every figure is rebuilt). The captioning page
is timed once more after changes that need no new inference (the frame of the clip; the
word whose attention is shown).

Targets: light pages p95 <= 150 ms (every page but the Memory tasks page, which trains,
and the ViT and captioning pages); the Gradients page p95 <= 250 ms at its default settings;
the ViT and captioning pages p95 <= 150 ms after a change that needs no new prediction and
<= 300 ms for any rerun (their widgets moved at random; the ViT page also with a new game at
its default settings).

    python -m bench.latency [--changes 40] [--pages softmax_flattening gradients]
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics

import torch
from streamlit.testing.v1 import AppTest

from seqviz.core import timing
from seqviz.ui import registry
from tests.apptest_helpers import MOVABLE, _number, assert_clean, open_page

EMPTY_PAGE = """
import streamlit as st

st.slider("x", 0, 100, 50, key="x")
"""
LIGHT_TARGET_MS = 150.0
GRADIENTS_TARGET_MS = 250.0
VIT_WIDGET_TARGET_MS = 150.0
VIT_ANY_TARGET_MS = 300.0
CAPTIONING_WIDGET_TARGET_MS = 150.0
HEAVY = {"memory_tasks"}   # a page that trains on every change: no latency target
CAPTIONING_VIEW_ONLY = {"Watch a clip": [("slider", "cap_frame")],
                        "Attention": [("selectbox", "cap_word"), ("radio", "cap_att_of")]}
VIT_VIEW_ONLY = {"Prediction": [("slider", "vit_t")],
                 "Attention": [("slider", key) for key in ("vit_t", "vit_layer", "vit_head", "vit_row", "vit_col")]}


def random_value(widget, rng: random.Random):
    kind = widget.type
    if kind == "slider":
        low, high, step = widget.min, widget.max, widget.step or 1
        steps = int(round((high - low) / step))
        value = low + step * rng.randint(0, steps)
        return int(value) if isinstance(low, int) else round(value, 10)
    if kind == "number_input":
        return rng.randint(0, 1000)
    if kind == "select_slider":
        return _number(rng.choice(widget.options))
    if kind in ("radio", "selectbox"):
        return rng.choice(widget.options)
    return not widget.value  # checkbox, toggle


def page_widgets(at):
    """Movable widgets of the page itself (the shared sidebar is left alone)."""
    sidebar_keys = {w.key for kind in MOVABLE for w in getattr(at.sidebar, kind)}
    return [(kind, w.key) for kind in MOVABLE for w in getattr(at.main, kind)
            if w.key and w.key not in sidebar_keys and not w.disabled]


def time_reruns(at: AppTest, widgets, changes: int, rng: random.Random, values=None) -> list[float]:
    """Milliseconds of each rerun after one widget change; `values` overrides the random draw.
    `widgets` is a list of (kind, key) or a function of the app giving the list now (a
    widget may be disabled by another one's value)."""
    times = []
    for i in range(changes):
        now = widgets(at) if callable(widgets) else widgets
        kind, key = now[i % len(now)]
        widget = getattr(at, kind)(key=key)
        widget.set_value(values(i) if values else random_value(widget, rng))
        times.append(timing.measure(at.run, repeats=1, warmup=0).median_ms)
        assert_clean(at)
    return times


def summarise(times: list[float]) -> tuple[float, float, float]:
    """p50, p95 (nearest rank) and max."""
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95, ordered[-1]


def report(name: str, times: list[float], base_p95: float, note: str, target: float | None) -> None:
    p50, p95, worst = summarise(times)
    verdict = "" if target is None else f"  target p95 <= {target:.0f} ms: {'met' if p95 <= target else 'MISSED'}"
    print(f"{name:34s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  max {worst:7.1f} ms  "
          f"p95/baseline x{p95 / base_p95:5.1f}  ({note}){verdict}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=40)
    parser.add_argument("--pages", nargs="*", default=None, help="url paths (file stems)")
    args = parser.parse_args()
    changes = max(40, args.changes)
    rng = random.Random(0)
    # AppTest runs the app in bare mode; the warning that says so is not a result
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          f"torch threads {torch.get_num_threads()}; {changes} widget changes per page after 3 warm-up "
          f"changes", flush=True)

    empty = AppTest.from_string(EMPTY_PAGE, default_timeout=60).run()
    time_reruns(empty, [("slider", "x")], 3, rng)  # warm-up
    base = time_reruns(empty, [("slider", "x")], changes, rng)
    _, base_p95, _ = summarise(base)
    report("baseline: empty page", base, base_p95, "one slider", None)

    for topic in [registry.HOME, *registry.TOPICS]:
        stem = topic.path.rsplit("/", 1)[-1].removesuffix(".py")
        if args.pages and stem not in args.pages:
            continue
        at = open_page(topic.path)
        count = len(page_widgets(at))
        widgets = page_widgets if count else [("number_input", "seed")]  # no widgets: the sidebar seed
        time_reruns(at, widgets, 3, rng)  # warm-up: imports, first cache fills
        times = time_reruns(at, widgets, changes, rng)
        target = (None if stem in HEAVY or stem == "gradients" else
                  VIT_ANY_TARGET_MS if stem in ("predictive_vit", "video_captioning") else LIGHT_TARGET_MS)
        report(stem, times, base_p95, f"{count or 1} widgets moved at random", target)
        if stem == "gradients":
            at = open_page(topic.path)  # default settings; a new seed each rerun
            time_reruns(at, [("number_input", "seed")], 3, rng, values=lambda i: 1000 + i)
            times = time_reruns(at, [("number_input", "seed")], changes, rng, values=lambda i: 2000 + i)
            report("gradients at its default settings", times, base_p95, "the seed changed each rerun",
                   GRADIENTS_TARGET_MS)
        if stem == "predictive_vit":
            vit_lines(topic.path, changes, rng, base_p95)
        if stem == "video_captioning":
            captioning_lines(topic.path, changes, rng, base_p95)


def captioning_lines(path: str, changes: int, rng: random.Random, base_p95: float) -> None:
    """The captioning page after changes that need no new inference: the frame of the clip, and
    the word whose attention is shown (every result comes from the per-clip caches)."""
    times = []
    for tab, widgets in CAPTIONING_VIEW_ONLY.items():
        at = open_page(path)
        at.session_state["cap_tab"] = tab
        at.run()
        time_reruns(at, widgets, 6, rng)
        times += time_reruns(at, widgets, changes // len(CAPTIONING_VIEW_ONLY), rng)
    report("video_captioning, no new inference", times, base_p95, "frame; word and whose words",
           CAPTIONING_WIDGET_TARGET_MS)


def vit_lines(path: str, changes: int, rng: random.Random, base_p95: float) -> None:
    """The ViT page after changes that need no new prediction, and at its default settings
    with a new seed (a new game to predict) before each rerun."""
    times = []
    for tab, widgets in VIT_VIEW_ONLY.items():
        at = open_page(path)
        at.session_state["vit_tab"] = tab
        time_reruns(at, widgets, 3, rng)
        times += time_reruns(at, widgets, changes // len(VIT_VIEW_ONLY), rng)
    report("predictive_vit, no new prediction", times, base_p95,
           "frame; layer, head, patch row and column", VIT_WIDGET_TARGET_MS)
    at = open_page(path)  # default settings (the Prediction tab); a new seed each rerun
    time_reruns(at, [("number_input", "seed")], 3, rng, values=lambda i: 1000 + i)
    times = time_reruns(at, [("number_input", "seed")], changes, rng, values=lambda i: 2000 + i)
    report("predictive_vit at its default settings", times, base_p95,
           "the seed changed each rerun: a new game predicted", VIT_ANY_TARGET_MS)


if __name__ == "__main__":
    main()
