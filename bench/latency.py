"""Server-side rerun latency after a widget change, for every page.

For each page, moves its widgets to random allowed values (seeded) at least
--changes times under Streamlit's AppTest and times each rerun. The baseline is
a page with one slider and nothing else, rerun the same way in the same process,
so the ratio tells how much of the time is the page's own work.

    .venv/bin/python bench/latency.py [--changes 24] [--pages softmax_flattening home]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from streamlit.testing.v1 import AppTest

from seqviz.ui import registry
from tests.apptest_helpers import MOVABLE, _number, assert_clean, open_page

EMPTY_PAGE = """
import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
st.slider("x", 0, 100, 50, key="x")
"""


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


def time_reruns(at, widgets, changes: int, rng: random.Random) -> list[float]:
    times = []
    for i in range(changes):
        kind, key = widgets[i % len(widgets)]
        widget = getattr(at, kind)(key=key)
        widget.set_value(random_value(widget, rng))
        start = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - start) * 1000)
        assert_clean(at)
    return times


def summarise(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=24)
    parser.add_argument("--pages", nargs="*", default=None, help="url paths (file stems)")
    args = parser.parse_args()
    rng = random.Random(0)

    empty = AppTest.from_string(EMPTY_PAGE, default_timeout=60).run()
    time_reruns(empty, [("slider", "x")], 3, rng)  # warm-up
    base_p50, base_p95 = summarise(time_reruns(empty, [("slider", "x")], args.changes, rng))
    print(f"baseline empty page: p50 {base_p50:7.1f} ms  p95 {base_p95:7.1f} ms  "
          f"({args.changes} changes)")

    topics = [registry.HOME, *registry.TOPICS]
    for topic in topics:
        stem = topic.path.rsplit("/", 1)[-1].removesuffix(".py")
        if args.pages and stem not in args.pages:
            continue
        at = open_page(topic.path)
        widgets = page_widgets(at)
        if not widgets:  # a page without widgets of its own: time the sidebar seed
            widgets = [("number_input", "seed")]
        time_reruns(at, widgets, 3, rng)  # warm-up: imports, first cache fills
        p50, p95 = summarise(time_reruns(at, widgets, args.changes, rng))
        print(f"{stem:28s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
              f"ratio p95/baseline p95 {p95 / base_p95:6.1f}x  ({args.changes} changes, "
              f"{len(widgets)} widgets)")


if __name__ == "__main__":
    main()
