"""What each captioner costs, measured on the chosen device when the Measure button is pressed
(never replayed from a cache another session filled): time per frame (live) or per clip
(offline, per-frame), the real-time factor at 30 fps, peak memory and parameters."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from seqviz.captioning import cost as costs
from seqviz.core.memory import format_bytes
from seqviz.plots import captioning as plots
from seqviz.recurrent.cells import run_sequential
from seqviz.ui import sidebar
from seqviz.ui.captioning import shipped
from seqviz.ui.captioning.clips import Shown
from seqviz.ui.charts import show_chart

FPS = costs.FPS
REPEATS = 5
_LAST = "_cap_costs"              # this session's last measurement: (settings, {name: Cost})


def _measure(shown: Shown, variant: str, seed: int, wait_k: int, redecode: bool) -> dict[str, costs.Cost]:
    def on(device):
        def run():
            return {
                "per-frame": costs.measure_cost(shipped.model("per-frame", seed), shown.frames, device,
                                                repeats=REPEATS),
                variant: costs.measure_cost(shipped.model(variant, seed), shown.frames, device, repeats=REPEATS),
                "live": costs.measure_cost(shipped.model("live", seed), shown.frames, device, wait_k=wait_k,
                                           redecode=redecode, repeats=REPEATS)}
        return run_sequential(run, device)

    return sidebar.run_on_device(on, "sequential")


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
    if st.button("Measure", key="cap_measure", type="primary", icon=":material/timer:",
                 help=f"Times each captioner on this clip on {device.type.upper()} ({REPEATS} calls after a "
                      "warm-up) and records its peak memory."):
        with st.spinner(f"Measuring on {device.type.upper()}…"):
            st.session_state[_LAST] = (settings, _measure(shown, variant, seed, wait_k, redecode))
    last = st.session_state.get(_LAST)
    if last is None:
        st.caption(f"Press **Measure** to time the three captioners on this clip on {device.type.upper()}.")
        return
    done, found = last
    if done != settings:
        st.caption("These measurements are for earlier settings (clip, model or policy); press Measure to update.")
    st.dataframe(pd.DataFrame([_row(name, cost) for name, cost in found.items()]), hide_index=True)
    show_chart(plots.real_time_chart({name: cost.real_time_factor() for name, cost in found.items()}, fps=FPS),
               key="cap_rtf", filename="caption_real_time")
    st.markdown(sentences(found))
    sources = sorted({cost.memory_source for cost in found.values()})
    st.caption(f"Measured on {', '.join(sorted({c.device.upper() for c in found.values()}))}, one torch thread on a "
               f"CPU; median of {REPEATS} calls after one warm-up. Peak memory: {', '.join(sources)}.")
