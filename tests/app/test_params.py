"""URL-bound widgets whose range depends on another widget."""

import pytest
from streamlit.testing.v1 import AppTest

from seqviz.ui import params

SCRIPT = """
import streamlit as st
from seqviz.ui import params
depth = params.slider("Depth", 1, 8, 8, key="depth")
layer = params.slider("Layer", 1, depth, 6, key="layer")
st.write(f"layer {layer}")
"""


def test_a_remembered_value_follows_a_shrinking_range():
    at = AppTest.from_string(SCRIPT, default_timeout=60).run()
    assert at.slider(key="layer").value == 6
    at.slider(key="depth").set_value(3).run()
    assert not at.exception
    assert at.slider(key="layer").value == 3
    at.slider(key="depth").set_value(8).run()
    assert at.slider(key="layer").value == 3  # the pulled-in value stays


def test_a_default_outside_the_range_starts_inside_it():
    at = AppTest.from_string(SCRIPT, default_timeout=60)
    at.query_params["depth"] = "2"
    at.run()
    assert not at.exception and not at.warning
    assert at.slider(key="layer").value == 2


STEPS = """
import streamlit as st
from seqviz.ui import params
params.slider("Kernel", 1, 9, 3, step=2, key="k")
params.slider("N", 2, 16, 4, key="n")
params.slider("c", 0.0, 1.0, 0.5, key="c")
params.slider("p", 0.5, 0.99, 0.9, step=0.01, key="p")
params.number_input("Seed", 0, 100, 0, key="seed")
params.toggle("On", False, key="on")
params.choice("Pick", ["a", "b"], "a", key="pick")
"""


def run_with(query):
    at = AppTest.from_string(STEPS, default_timeout=60)
    at.query_params.update(query)
    return at.run()


def notices(at):
    return " ".join(w.value for w in at.warning)


@pytest.mark.parametrize("query,kind,key,value,words", [
    ({"k": "4"}, "slider", "k", 5, "is not on the slider's steps (1, 3, …); using 5"),
    ({"k": "8.9"}, "slider", "k", 9, "using 9"),
    ({"k": "10"}, "slider", "k", 9, "clamped to 9"),
    ({"n": "3.7"}, "slider", "n", 4, "is not a whole number; using 4"),
    ({"n": "2.5"}, "slider", "n", 3, "is not a whole number; using 3"),
    ({"c": "0.123"}, "slider", "c", 0.12, "is not on the slider's steps (0.0, 0.01, …); using 0.12"),
    ({"p": "0.905"}, "slider", "p", 0.91, "using 0.91"),
    ({"seed": "7.5"}, "number_input", "seed", 8, "is not a whole number; using 8"),
    ({"on": "maybe"}, "toggle", "on", False, "is not on/off"),
    ({"pick": "c"}, "radio", "pick", "a", "is not one of a, b"),
])
def test_url_values_off_the_widget_give_a_notice_naming_the_value_used(query, kind, key, value, words):
    at = run_with(query)
    assert not at.exception
    assert getattr(at, kind)(key=key).value == pytest.approx(value)
    assert words in notices(at), notices(at)


@pytest.mark.parametrize("query", [{"k": "5"}, {"n": "4"}, {"c": "0.25"}, {"p": "0.93"}, {"seed": "12"}])
def test_values_on_the_grid_are_taken_without_a_notice(query):
    at = run_with(query)
    assert not at.exception and not at.warning


CRAFTED = {
    "heading": "x\n\n# Class cancelled",
    "image": "![](http://host/t.gif)",
    "link": "[click](http://host/a)",
    "backticks": "a`b``c",
    "emphasis": "**bold** _it_ $x^2$ :red[red]",
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_a_crafted_url_value_is_shown_literally_inside_one_code_span(name):
    raw = CRAFTED[name]
    at = run_with({"k": raw})
    assert not at.exception
    (notice,) = [w.value for w in at.warning]
    assert "\n" not in notice  # no line break, so no heading or new block can start
    shown = params.literal(f"k={raw}")
    assert shown in notice and notice.count(raw.split("\n")[-1]) == 1  # the value appears once, in the span
    fence = shown.split(" ")[0]
    assert set(fence) == {"`"} and fence not in shown[len(fence):-len(fence)]  # the span cannot close early
    assert notice.startswith("URL parameter " + shown + " ignored: it is not a number")


def test_literal_and_plain():
    assert params.literal("x\n\n# Class cancelled") == "` x\\n\\n# Class cancelled `"
    assert params.literal("a``b") == "``` a``b ```"
    assert params.literal("") == "(empty)"
    assert params.literal("y" * 100, limit=10) == "` yyyyyyyyyy ` (the first 10 of 100 characters)"
    assert params.plain("row 1: '![](http://h/t.gif)'\n# x") == \
        "row 1\\: '\\!\\[\\]\\(http\\://h/t\\.gif\\)'\\\\n\\# x"  # renders: row 1: '![](http://h/t.gif)'\\n# x
