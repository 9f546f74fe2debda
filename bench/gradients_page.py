"""Rerun time of the Gradients page after one widget change, at the defaults and at the
sliders' maxima (length 2000, hidden 256), under Streamlit's AppTest.

Each model's profile is cached on the arguments it uses, so a change recomputes only
the models it affects: rho the four recurrent ones, b_f the LSTM, clipping none. The
baseline is a page with one slider, rerun the same way in the same process.

    .venv/bin/python -m bench.gradients_page [--changes 24] [--skip-maxima]
"""

from __future__ import annotations

import argparse
import statistics
import time

from streamlit.testing.v1 import AppTest

from tests.apptest_helpers import assert_clean, open_page

PAGE = "pages/gradients.py"
EMPTY_PAGE = 'import streamlit as st\nst.slider("x", 0, 100, 50, key="x")\n'


def _timed(at: AppTest, kind: str, key: str, value) -> float:
    getattr(at, kind)(key=key).set_value(value)
    start = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - start
    assert_clean(at)
    return elapsed


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def at_defaults(changes: int) -> dict[str, list[float]]:
    """Widget changes away from and back to the defaults, new values included (cache misses)."""
    at = open_page(PAGE)
    rhos = [0.95, 1.05, 0.9, 1.1, 0.85, 1.15, 0.8, 1.2]
    moves = [("slider", "grad_rho", lambda i: rhos[i % len(rhos)]),
             ("slider", "grad_fb", lambda i: [1.5, 2.0, 0.5, 1.0][i % 4]),
             ("toggle", "grad_clip_on", lambda i: i % 2 == 0),
             ("radio", "grad_weights", lambda i: "trained" if i % 2 == 0 else "fresh"),
             ("select_slider", "grad_len", lambda i: [100, 200][i % 2]),
             ("select_slider", "grad_hid", lambda i: [32, 64][i % 2])]
    times: dict[str, list[float]] = {key: [] for _, key, _ in moves}
    for i in range(changes):
        kind, key, value = moves[i % len(moves)]
        times[key].append(_timed(at, kind, key, value(i // len(moves))))
    return times


def at_maxima() -> dict[str, float]:
    """Length 2000, hidden 256; then one change of each widget (the first costs the most)."""
    at = open_page(PAGE)
    out = {"first render at the maxima": _timed(at, "select_slider", "grad_len", 2000)
           + _timed(at, "select_slider", "grad_hid", 256)}
    out["rho 1.0 -> 1.05 (4 models)"] = _timed(at, "slider", "grad_rho", 1.05)
    out["b_f 1.0 -> 2.0 (LSTM only)"] = _timed(at, "slider", "grad_fb", 2.0)
    out["clip on (no model)"] = _timed(at, "toggle", "grad_clip_on", True)
    out["clip threshold 0.1 (no model)"] = _timed(at, "select_slider", "grad_clip", 0.1)
    out["weights trained (shipped, hidden 32)"] = _timed(at, "radio", "grad_weights", "trained")
    out["weights fresh again (cached)"] = _timed(at, "radio", "grad_weights", "fresh")
    out["rho back to 1.0 (LSTM recomputed: b_f moved)"] = _timed(at, "slider", "grad_rho", 1.0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=24)
    parser.add_argument("--skip-maxima", action="store_true")
    args = parser.parse_args()
    empty = AppTest.from_string(EMPTY_PAGE, default_timeout=60).run()
    baseline = []
    for i in range(args.changes):
        empty.slider(key="x").set_value(i % 100)
        start = time.perf_counter()
        empty.run()
        baseline.append(time.perf_counter() - start)
    base_p50 = statistics.median(baseline)
    print(f"empty page: p50 {base_p50 * 1000:.0f} ms, p95 {_p95(baseline) * 1000:.0f} ms")
    times = at_defaults(args.changes)
    every = [t for values in times.values() for t in values]
    print(f"defaults, {len(every)} changes: p50 {statistics.median(every) * 1000:.0f} ms, "
          f"p95 {_p95(every) * 1000:.0f} ms ({statistics.median(every) / base_p50:.1f}x the empty page)")
    for key, values in times.items():
        print(f"  {key:14s} p50 {statistics.median(values) * 1000:6.0f} ms  max {max(values) * 1000:6.0f} ms")
    if not args.skip_maxima:
        for what, seconds in at_maxima().items():
            print(f"maxima: {what:40s} {seconds:7.2f} s")


if __name__ == "__main__":
    main()
