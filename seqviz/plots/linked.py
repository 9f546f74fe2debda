"""Hidden state and output over time, linked by the time step under the pointer (altair).

Altair serves this figure better than plotly: one selection, the time step under the
pointer, drives four views at once. Hover a column of the h_t heatmap, or a point of the
output trace, and the same step is marked on both, while two bar charts show the whole
vector h_t and the output distribution softmax(y_t) at that step. A student sees the
hidden vector change at the token while the output bars still say "nothing yet".
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from seqviz.plots.palette import BLUE, CATEGORICAL, GREY, INK, VERMILLION

__all__ = ["hidden_output_frames", "hidden_output_linked"]


def hidden_output_frames(hidden: np.ndarray, probabilities: np.ndarray, symbols: Sequence[object],
                         class_names: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long tables of h_t (step, unit, value) and softmax(y_t) (step, class, probability)."""
    hidden, probabilities = np.asarray(hidden, float), np.asarray(probabilities, float)  # (H, T), (C, T)
    units, steps = hidden.shape
    if probabilities.shape[1] != steps or len(symbols) != steps:
        raise ValueError(f"hidden has {steps} steps, probabilities {probabilities.shape[1]}, "
                         f"symbols {len(symbols)}: they must agree")
    unit_index, step_index = np.indices(hidden.shape)
    states = pd.DataFrame({"step": step_index.ravel(), "unit": unit_index.ravel(),
                           "h": hidden.ravel()})
    class_index, step_index = np.indices(probabilities.shape)
    outputs = pd.DataFrame({"step": step_index.ravel(),
                            "class": [class_names[c] for c in class_index.ravel()],
                            "probability": probabilities.ravel()})
    symbol_of = {t: str(s) for t, s in enumerate(symbols)}
    states["input"] = states["step"].map(symbol_of)
    outputs["input"] = outputs["step"].map(symbol_of)
    return states, outputs


_LIMIT = 987654.0  # stands for the colour limit in the cached template; replaced per call


@functools.lru_cache(maxsize=8)
def _template(class_names: tuple[str, ...], width: int) -> str:
    """The chart's Vega-Lite spec as JSON, with named datasets: built and validated once per
    (classes, width), since building an altair chart costs far more than filling in data."""
    hover = alt.selection_point(fields=["step"], on="pointerover", nearest=True, empty=False,
                                value=[{"step": 0}], name="step_hover")
    states, outputs = alt.NamedData("states"), alt.NamedData("outputs")
    step_axis = alt.X("step:O", title="time step", axis=alt.Axis(labelAngle=0, labelOverlap=True))
    heatmap = alt.Chart(states).mark_rect().encode(
        x=step_axis, y=alt.Y("unit:O", title="unit", axis=alt.Axis(labels=False, ticks=False)),
        color=alt.Color("h:Q", scale=alt.Scale(scheme="redblue", reverse=True, domain=[-_LIMIT, _LIMIT]),
                        title="h"),
        stroke=alt.condition(hover, alt.value(INK), alt.value(None)),
        tooltip=["step:O", "input:N", "unit:O", alt.Tooltip("h:Q", format=".3f")],
    ).add_params(hover).properties(width=width, height=180, title="Hidden state hₜ (units × time)")
    trace = alt.Chart(outputs).mark_line(point=True).encode(
        x=step_axis, y=alt.Y("probability:Q", scale=alt.Scale(domain=[0, 1]), title="P(class)"),
        color=alt.Color("class:N", title="output class",
                        scale=alt.Scale(domain=list(class_names), range=[GREY, *CATEGORICAL[:len(class_names) - 1]])),
        tooltip=["step:O", "input:N", "class:N", alt.Tooltip("probability:Q", format=".3f")],
    ).add_params(hover).properties(width=width, height=160, title="Output softmax(yₜ) over time")
    rule = alt.Chart(outputs).mark_rule(color=VERMILLION, strokeWidth=2).encode(
        x="step:O").transform_filter(hover)
    state_bars = alt.Chart(states).mark_bar().encode(
        x=alt.X("unit:O", title="unit", axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("h:Q", scale=alt.Scale(domain=[-_LIMIT, _LIMIT]), title="h at the step"),
        color=alt.condition("datum.h > 0", alt.value(VERMILLION), alt.value(BLUE)),
    ).transform_filter(hover).properties(width=width // 2, height=140, title="hₜ at the hovered step")
    output_bars = alt.Chart(outputs).mark_bar(color=GREY).encode(
        x=alt.X("class:N", title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("probability:Q", scale=alt.Scale(domain=[0, 1]), title="P at the step"),
    ).transform_filter(hover).properties(width=width // 2, height=140,
                                         title="softmax(yₜ) at the hovered step")
    with warnings.catch_warnings():  # the one hover selection, bound to both charts on purpose
        warnings.simplefilter("ignore", UserWarning)
        chart = alt.vconcat(heatmap + rule, trace + rule, alt.hconcat(state_bars, output_bars)
                            ).resolve_scale(color="independent")
        return json.dumps(chart.to_dict())


def hidden_output_linked(hidden: np.ndarray, probabilities: np.ndarray, symbols: Sequence[object],
                         class_names: Sequence[str], *, width: int = 520) -> dict:
    """Vega-Lite spec: h_t heatmap and P(y_t) trace sharing a hover-selected step (the request
    step before any hover), with both vectors at that step as bars. For st.vega_lite_chart."""
    states, outputs = hidden_output_frames(hidden, probabilities, symbols, class_names)
    steps = int(states["step"].max()) + 1
    limit = float(max(np.abs(states["h"]).max(), 1e-9))
    spec = json.loads(_template(tuple(class_names), width).replace(repr(_LIMIT), repr(limit)))
    spec["params"][0]["value"] = [{"step": steps - 1}]
    spec["datasets"] = {"states": states.to_dict("records"), "outputs": outputs.to_dict("records")}
    return spec
