"""The linked h_t / y_t view: its tables hold exactly the numbers given, and one hover selection links the views."""

from __future__ import annotations

import numpy as np
import pytest
from altair.utils.schemapi import validate_jsonschema
from altair.vegalite.v6.schema import load_schema

from seqviz.plots import linked

NAMES = ("nothing", "one", "two", "three")


def _inputs(steps: int = 6):
    rng = np.random.default_rng(0)
    hidden = rng.normal(size=(5, steps))                                  # (H, T)
    logits = rng.normal(size=(4, steps))
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=0)           # (C, T)
    return hidden, probabilities, ["·"] * (steps - 1) + ["?"]


def test_frames_hold_every_value_at_its_step_and_unit():
    hidden, probabilities, symbols = _inputs()
    states, outputs = linked.hidden_output_frames(hidden, probabilities, symbols, NAMES)
    assert len(states) == hidden.size and len(outputs) == probabilities.size
    for row in states.sample(10, random_state=0).itertuples():
        assert row.h == hidden[row.unit, row.step]
    pivot = outputs.pivot(index="class", columns="step", values="probability").loc[list(NAMES)]
    np.testing.assert_allclose(pivot.to_numpy(), probabilities)
    assert set(states.loc[states.step == 5, "input"]) == {"?"}


def test_mismatched_lengths_are_refused():
    hidden, probabilities, symbols = _inputs()
    with pytest.raises(ValueError, match="must agree"):
        linked.hidden_output_frames(hidden, probabilities[:, :-1], symbols, NAMES)


def test_one_hover_selection_drives_every_view():
    hidden, probabilities, symbols = _inputs()
    spec = linked.hidden_output_linked(hidden, probabilities, symbols, NAMES)
    params = spec["params"]
    assert [p["name"] for p in params] == ["step_hover"]
    assert params[0]["select"] == {"type": "point", "fields": ["step"], "nearest": True, "on": "pointerover"}
    assert params[0]["value"] == [{"step": 5}]       # the request step is selected before any hover
    text = str(spec)
    assert text.count("'param': 'step_hover'") >= 4  # the rules and both bar charts filter on it
    limit = float(np.abs(hidden).max())
    assert f"'domain': [{-limit!r}, {limit!r}]" in text and "987654" not in text
    assert len(spec["datasets"]["states"]) == hidden.size and len(spec["datasets"]["outputs"]) == probabilities.size


def test_the_spec_is_valid_vega_lite():
    """The filled-in spec (data and limits patched into the cached template) still meets the schema."""
    hidden, probabilities, symbols = _inputs()
    validate_jsonschema(linked.hidden_output_linked(hidden, probabilities, symbols, NAMES), load_schema())
