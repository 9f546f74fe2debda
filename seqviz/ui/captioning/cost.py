"""What each captioner costs, measured on the chosen device when the Measure button is pressed
(never replayed from a cache another session filled): time per frame (live) or per clip
(offline, per-frame), the real-time factor at 30 fps, peak memory and parameters."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st
import torch

from seqviz.captioning import cost as costs
from seqviz.core import device as devices
from seqviz.core import timing
from seqviz.core.memory import format_bytes
from seqviz.core.train import Progress
from seqviz.plots import captioning as plots
from seqviz.recurrent.cells import run_sequential
from seqviz.ui import sidebar
from seqviz.ui.captioning import shipped
from seqviz.ui.captioning.clips import Shown
from seqviz.ui.charts import show_chart
from seqviz.ui.training import Estimate, EstimatePart, run_training, session_estimate

FPS = costs.FPS
REPEATS = 5
_LAST = "_cap_costs"              # this session's last measurement: (settings, {name: Cost})
_STORE = "_cap_cost_job"           # what the measuring job leaves: _LAST -> (settings, {name: Cost}, stopped, notice)


def _models(variant: str) -> tuple[str, ...]:
    return ("per-frame", variant, "live")


def _job(shown: Shown, variant: str, seed: int, wait_k: int, redecode: bool, device: torch.device, store: dict):
    """The measurement as a job of the training runner, one report per captioner; what was
    measured goes to store[_LAST] as it comes: (settings, {name: Cost}, stopped, notice)."""
    names = _models(variant)
    settings = (shown.key, variant, seed, wait_k, redecode)
    captioners = {name: shipped.model(name, seed) for name in names}   # read here, in the page's run

    def run(on_progress, should_stop):
        found, notice, start = {}, None, time.perf_counter()
        for index, name in enumerate(names):
            if should_stop():
                break
            options = dict(wait_k=wait_k, redecode=redecode) if name == "live" else {}

            def one(on, name=name, options=options):
                return run_sequential(lambda: costs.measure_cost(captioners[name], shown.frames, on, repeats=REPEATS,
                                                                 should_stop=should_stop, **options), on)
            cost, _, notice = devices.run_with_fallback(one, device)
            if should_stop():        # its timing was cut short: not kept
                break
            found[name] = cost
            store[_LAST] = (settings, dict(found), True, notice)     # so far: the live chart reads it
            on_progress(Progress(index + 1, len(names), {"ms per call": 1000 * cost.seconds},
                                 time.perf_counter() - start))
        store[_LAST] = (settings, found, len(found) < len(names), notice)
        return found
    return run


def estimate(shown: Shown, variant: str, seed: int, wait_k: int, redecode: bool, device: torch.device) -> Estimate:
    """One call of each captioner on this clip timed now (cold: no warm-up), × the calls its
    measurement makes (a warm-up, REPEATS timed calls and one for the peak memory)."""
    parts = []
    for name in _models(variant):
        options = dict(wait_k=wait_k, redecode=redecode) if name == "live" else {}
        call = costs.one_call(shipped.model(name, seed), shown.frames, device, **options)
        once = run_sequential(lambda call=call: timing.measure(call, repeats=1, warmup=0, device=device), device)
        parts.append(EstimatePart(name, once.median * (REPEATS + 2), 1, 1))
    return Estimate(tuple(parts), device.type, unit="captioner", basis=(
        "; ".join(f"{p.name}: one call {1000 * p.seconds_each / (REPEATS + 2):,.0f} ms" for p in parts)
        + f", × {REPEATS + 2} calls each (a warm-up, {REPEATS} timed, one for the peak memory)"))


def _row(name: str, cost: costs.Cost) -> dict:
    return {"model": name, "parameters": f"{cost.parameters:,}", "parameter memory": format_bytes(cost.parameter_bytes),
            "peak memory of one call": format_bytes(cost.peak_bytes),
            "latency": (f"{1000 * cost.latency:.2f} ms per frame" if cost.per_frame
                        else f"{1000 * cost.latency:.1f} ms per clip"),
            f"real-time factor at {FPS} fps": f"{cost.real_time_factor():.3g}"}


def sentences(found: dict[str, costs.Cost]) -> str:
    live = found["live"]
    budget = 1000 / FPS
    text = (f"The live captioner took {1000 * live.latency:.2f} ms per frame (median of {live.repeats} streams of "
            f"the clip, divided by its {live.frames} frames), {live.real_time_factor():.3g}× the {budget:.1f} ms a "
            f"frame lasts at {FPS} fps: on {live.device.upper()} it "
            + ("keeps up with a live camera." if live.real_time_factor() < 1 else "falls behind a live camera."))
    for name, cost in found.items():
        if name == "live":
            continue
        text += (f" The {name} model took {1000 * cost.latency:.1f} ms for the whole clip, which lasts "
                 f"{1000 * cost.frames / FPS:.0f} ms at {FPS} fps ({cost.real_time_factor():.2g}×), and could only "
                 "start once the clip had ended.")
    largest = max(found.items(), key=lambda item: item[1].parameters)
    text += (f" The largest is {largest[0]}, with {largest[1].parameters:,} parameters "
             f"({format_bytes(largest[1].parameter_bytes)}).")
    return text


def cost_card(shown: Shown, variant: str, seed: int, wait_k: int, redecode: bool) -> None:
    device = sidebar.device_for("sequential")
    settings = (shown.key, variant, seed, wait_k, redecode)
    store = st.session_state.setdefault(_STORE, {})
    live = st.empty()

    def redraw(_: Progress) -> None:
        found = (store.get(_LAST) or (None, {}))[1]
        if found:
            times = [1000 * cost.seconds for cost in found.values()]
            live.bar_chart(pd.DataFrame({"model": list(found), "ms per call": times}), x="model", y="ms per call",
                           height=200)

    def job(on_progress, should_stop):
        store.pop(_LAST, None)
        return _job(shown, variant, seed, wait_k, redecode, device, store)(on_progress, should_stop)

    run_training("cap_measure", job, label="Measure", unit="captioner", metric="ms per call", live_curve=False,
                 on_report=redraw,
                 estimate=session_estimate("cap_measure", (settings, str(device)),
                                           lambda: estimate(shown, variant, seed, wait_k, redecode, device)),
                 describe=lambda p: f"{p.step} of {p.total} captioners measured · {p.elapsed_s:.1f} s")
    live.empty()
    last = store.get(_LAST)
    if last is None:
        st.caption(f"Press **Measure** to time the three captioners on this clip on {device.type.upper()} "
                   f"({REPEATS} calls each after a warm-up) and record their peak memory.")
        return
    done, found, stopped, notice = last
    if notice:
        st.warning(notice, icon=":material/memory:")
    if done != settings:
        st.caption("These measurements are for earlier settings (clip, model or policy); press Measure to update.")
    if stopped:
        st.warning(f"Partial result: stopped after {len(found)} of 3 captioners; those measured are shown.",
                   icon=":material/stop_circle:")
    if not found:
        return
    st.session_state[_LAST] = (done, found)
    st.dataframe(pd.DataFrame([_row(name, cost) for name, cost in found.items()]), hide_index=True)
    show_chart(plots.real_time_chart({name: cost.real_time_factor() for name, cost in found.items()}, fps=FPS),
               key="cap_rtf", filename="caption_real_time")
    if "live" in found:
        st.markdown(sentences(found))
    sources = sorted({cost.memory_source for cost in found.values()})
    st.caption(f"Measured on {', '.join(sorted({c.device.upper() for c in found.values()}))}, one torch thread on a "
               f"CPU; median of {REPEATS} calls after one warm-up. Peak memory: {', '.join(sources)}.")
