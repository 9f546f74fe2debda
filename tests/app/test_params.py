"""URL-bound widgets whose range depends on another widget."""

from streamlit.testing.v1 import AppTest

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
