"""bench/load.py's websocket client: the value field of each widget kind, and a short real run
(its own server, two sessions on two light pages) that ends with no errors and its summary line."""

from __future__ import annotations

import random
import re
import subprocess
import sys

from streamlit.proto.Block_pb2 import Block
from streamlit.proto.Button_pb2 import Button
from streamlit.proto.Checkbox_pb2 import Checkbox
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.Radio_pb2 import Radio
from streamlit.proto.Selectbox_pb2 import Selectbox
from streamlit.proto.Slider_pb2 import Slider

from bench.st_client import Session, Widget, new_value, shown_value, widget_state
from tests.conftest import ROOT

SUMMARY = re.compile(r"^sessions=(\d+) errors=(\d+) p95_light_ms=(\d+) rss_base_mib=([\d.]+) "
                     r"rss_peak_mib=([\d.]+) rss_after_mib=([\d.]+)$")


def _moved(widget: Widget, field: str):
    """The widget's shown value, a new one, and the new one's WidgetState field."""
    current = shown_value(widget)
    value = new_value(widget, current, random.Random(0))
    state = widget_state(widget, value)
    assert state.WhichOneof("value") == field
    return current, value


def test_each_widget_kind_sends_its_value_field():
    slider = Slider(id="s", min=0.5, max=0.99, step=0.01, data_type=Slider.FLOAT, default=[0.5],
                    value=[0.9], set_value=True)
    current, value = _moved(Widget("s", "slider", slider, True), "double_array_value")
    assert current == [0.9] and value != current and 0.5 <= value[0] <= 0.99
    steps = Slider(id="d", type=Slider.SELECT_SLIDER, min=0, max=2, step=1, options=["1", "1,000", "5,000"],
                   default=[1], raw_value=["5,000"], set_value=True)
    current, value = _moved(Widget("d", "select_slider", steps, True), "string_array_value")
    assert current == ["5,000"] and value[0] in steps.options
    box = Selectbox(id="b", options=["a", "b"])             # no default: shows nothing, sends nothing
    assert shown_value(Widget("b", "selectbox", box, True)) is None
    assert _moved(Widget("b", "selectbox", box, True), "string_value")[1] in ("a", "b")
    radio = Radio(id="r", options=["Auto", "CPU"], default=0)
    assert _moved(Widget("r", "radio", radio, True), "string_value") == ("Auto", "CPU")
    seed = NumberInput(id="n", data_type=NumberInput.INT, has_min=True, has_max=True, min=0, max=2**31 - 1,
                       step=1, default=0)
    current, value = _moved(Widget("n", "number_input", seed, True), "int_value")
    assert current == 0 and 0 <= value <= 1000
    toggle = Checkbox(id="t", type=Checkbox.TOGGLE, default=True)
    assert _moved(Widget("t", "checkbox", toggle, True), "bool_value") == (True, False)
    tabs = Widget("v", "tabs", Block.TabContainer(id="v", default_tab_index=1), True, ["Prediction", "Train"])
    assert _moved(tabs, "string_value") == ("Train", "Prediction")
    assert widget_state(Widget("go", "button", Button(id="go"), True), True).trigger_value


def _messages(*kinds):
    for kind in kinds:
        msg = ForwardMsg()
        if kind == "new_session":
            msg.new_session.page_script_hash = "h"
        elif kind == "exception":
            msg.delta.new_element.exception.type = "ValueError"
            msg.delta.new_element.exception.message = "bad"
            msg.metadata.delta_path[:] = [0, 3]
        elif kind == "slider":
            msg.delta.new_element.slider.CopyFrom(Slider(id="s", min=0, max=9, step=1, default=[4]))
            msg.metadata.delta_path[:] = [0, 1]
        else:                                       # a script_finished status
            msg.script_finished = kind
        yield msg


def test_a_run_ends_at_its_own_script_finished_and_collects_errors():
    """A stop for a rerun (2) is not the end; an exception element and a compile error (1) are errors;
    the widgets drawn in the run that ended are the session's, with their values."""
    session = Session("http://127.0.0.1:1", random.Random(0))
    session._run = {"sent": 0.0, "started": False, "errors": [], "notices": [], "widgets": {}, "tabs": {}}
    statuses = [session._read(msg, session._run) for msg in _messages(0, "new_session", "slider", 2, "new_session",
                                                                      "slider", "exception", 0)]
    assert statuses == [None] * 7 + [0]      # the status 0 before any new_session is an older run's
    assert session._run["errors"] == ["exception element on home: ValueError: bad"]
    assert session.values == {"s": [4.0]} and session.movable()[0].kind == "slider"
    session._run = {"sent": 0.0, "started": False, "errors": [], "notices": [], "widgets": {}, "tabs": {}}
    assert [session._read(msg, session._run) for msg in _messages("new_session", 1)] == [None, 1]
    assert session._run["errors"] == ["script finished with a compile error"]


def test_two_sessions_on_two_light_pages():
    command = [sys.executable, "-m", "bench.load", "--sessions", "2", "--heavy", "0", "--duration", "6",
               "--after", "0", "--think", "0.2", "0.6", "--baseline-moves", "1",
               "--pages", "softmax_flattening", "identity_attention"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = SUMMARY.match(lines[-1])
    assert summary, lines[-1]
    sessions, errors = int(summary[1]), int(summary[2])
    assert (sessions, errors) == (2, 0)
    assert 0 < float(summary[4]) <= float(summary[5])
    reruns = {line.split()[0]: int(line.split()[1]) for line in lines
              if line.split() and line.split()[0] in ("softmax_flattening", "identity_attention")}
    assert set(reruns) == {"softmax_flattening", "identity_attention"}
    assert sum(reruns.values()) >= 6, result.stdout    # each session opened its page and moved widgets
