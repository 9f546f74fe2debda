"""Training both words-to-regions models in a student's session: Train and Stop, the learning
curves drawn as they are measured, and the models trained here drawing the page's sentence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from seqviz.attention import regions_experiment as experiment
from seqviz.attention import regions_explain as explain
from seqviz.attention import regions_train, scenes
from seqviz.core import timing
from seqviz.core.train import Progress
from seqviz.plots.attention import regions as plots
from seqviz.plots.vit import image_panels
from seqviz.ui import params, present
from seqviz.ui.attention.regions import first_step_at, verdicts
from seqviz.ui.charts import show_chart
from seqviz.ui.training import Estimate, EstimatePart, run_training, session_estimate

STATE = "_wr_live"
STEPS = (100, 200, 300, 500, 800, 1200, 2000)
EVALUATE_EVERY = 50
TEST_PER_COUNT = 50          # the curves while training; the final table reads the whole test set


def estimate(seed: int, settings: experiment.TrainSettings) -> Estimate:
    """The time of a run, timed now on this machine: a step of both models (as the run steps
    them, on a fresh batch; the median of 2 after a warm-up) and one measurement of both on the
    curves' test sentences; the final table reads the whole test set, so its time is that
    measurement's scaled by the number of sentences."""
    models = {variant: regions_train.new_model(regions_train.RegionsConfig(variant), seed)
              for variant in ("attention", "one-vector")}
    steppers = [regions_train.stepper(model, seed, settings) for model in models.values()]
    step = timing.measure(lambda: [stepper() for stepper in steppers], repeats=2, warmup=1)
    test = experiment.test_set(TEST_PER_COUNT)
    curve = timing.measure(lambda: [experiment.measure(m, v, seed, test) for v, m in models.items()],
                           repeats=1, warmup=0)
    measurements = -(-settings.steps // EVALUATE_EVERY)
    return Estimate((EstimatePart("both models", step.median, settings.steps, len(step.samples)),
                     EstimatePart("curve points", curve.median, measurements, 1, unit="measurement"),
                     EstimatePart(f"final test (× {experiment.TEST_PER_COUNT / TEST_PER_COUNT:g} the sentences)",
                                  curve.median * experiment.TEST_PER_COUNT / TEST_PER_COUNT, 1, 1,
                                  unit="measurement")), "cpu")


def _state() -> dict[str, Any]:
    """This session's training: its settings, seed, curve rows, models and final test rows."""
    return st.session_state.setdefault(STATE, {})


def _job(seed: int, settings: experiment.TrainSettings, state: dict[str, Any]
         ) -> Callable[[Callable[[Progress], None], Callable[[], bool]], int]:
    def train(on_progress: Callable[[Progress], None], should_stop: Callable[[], bool]) -> int:
        curve: list[experiment.CurveRow] = []
        state.clear()
        state.update(seed=seed, settings=settings, curve=curve)
        models, _, done = experiment.train_side_by_side(
            seed, settings, test=experiment.test_set(TEST_PER_COUNT), evaluate_every=EVALUATE_EVERY,
            curve=curve, on_progress=on_progress, should_stop=should_stop)
        rows = [row for variant, model in models.items() for row in experiment.measure(model, variant, seed)]
        state.update(models=models, done=done, rows=rows)
        return done
    return train


def _curves(rows: list[experiment.CurveRow], title: str):
    return plots.learning_curves(rows, scenes.MAX_OBJECTS, title)


def _summary(state: dict[str, Any]) -> str:
    seed, settings, done = state["seed"], state["settings"], state["done"]
    four = {r.variant: r.scene_accuracy for r in state["rows"] if r.objects == scenes.MAX_OBJECTS}
    reached = {variant: first_step_at(tuple(state["curve"]), variant, seed, scenes.MAX_OBJECTS)
               for variant in ("attention", "one-vector")}
    when = "; ".join(f"{plots.VARIANT_NAMES[v]} {'at step ' + format(s, ',') if s else 'not within the run'}"
                     for v, s in reached.items())
    partial = ("" if done == settings.steps else
               f" (partial: stopped at step {done:,} of {settings.steps:,}, the models kept as they are)")
    return (f"Trained here from seed {seed} for {done:,} steps{partial}, on sentences of one to "
            f"{settings.most_objects} objects. Four-object test sentences drawn entirely right "
            f"({experiment.TEST_PER_COUNT} of them): cross-attention **{four['attention']:.1%}**, one vector "
            f"**{four['one-vector']:.1%}**. First measurement at 99 % or more on the curves ({TEST_PER_COUNT} "
            f"sentences every {EVALUATE_EVERY} steps): {when}.")


def live_training(seed: int, scene: scenes.Scene) -> None:
    """The controls, the run, and what the models trained in this session draw."""
    left, right = st.columns(2)
    steps = params.log_select_slider("Training steps (each model)", STEPS, 500, key="wr_live_steps", container=left)
    most = int(params.choice("Training sentences name at most", ["4 objects", "3 objects"], "4 objects",
                             key="wr_live_most", container=right, horizontal=True).split()[0])
    settings = replace(experiment.SETTINGS, steps=steps, most_objects=most)
    state = _state()
    chart = st.empty()
    drawn = {"rows": 0, "times": 0}

    def redraw(_: Progress) -> None:
        """Draw the curves again when a new measurement has come in (every EVALUATE_EVERY steps)."""
        rows = list(state.get("curve", ()))
        if len(rows) > drawn["rows"]:
            drawn.update(rows=len(rows), times=drawn["times"] + 1)
            chart.plotly_chart(present.figure(_curves(rows, "Training now: four-object test sentences drawn right")),
                               key=f"wr_live_progress_{drawn['times']}")

    run_training("wr_live", _job(seed, settings, state), on_report=redraw,
                 label=f"Train both models here ({steps:,} steps each, seed {seed})", live_curve=False,
                 estimate=session_estimate("wr_live", (seed, settings), lambda: estimate(seed, settings)))
    if "models" not in state:
        return
    chart.empty()
    st.markdown(_summary(state))
    trained = ("Trained here" if state["done"] == state["settings"].steps else
               f"Trained here, partial (stopped at step {state['done']:,} of {state['settings'].steps:,})")
    show_chart(_curves(state["curve"], f"{trained}: four-object test sentences drawn right"),
               key="wr_live_curves", filename="trained_here_curves")
    results = {variant: explain.draw(model, scene) for variant, model in state["models"].items()}
    asked = scenes.render(np.array([results["attention"].asked]))[0]
    show_chart(image_panels([("asked for", asked), ("cross-attention (trained here)", results["attention"].picture),
                             ("one vector (trained here)", results["one-vector"].picture)],
                            f"Trained here: “{scenes.sentence(scene)}”", height=300),
               key="wr_live_pictures", filename="trained_here_pictures")
    st.table(pd.DataFrame({"quadrant": scenes.QUADRANT_NAMES,
                           "cross-attention drew": verdicts(results["attention"]),
                           "one vector drew": verdicts(results["one-vector"])}), hide_index=True)
