"""One browser tab of a Streamlit app, without a browser: its websocket protocol (Streamlit 1.67).

What this speaks, checked against a running seqviz server:

- connect to ``ws://host:port/_stcore/stream`` with the subprotocol ``streamlit`` (its
  second and third entries would carry an XSRF token and a session to resume; neither is
  needed on loopback with no login). Frames are binary protobufs: ``BackMsg`` up,
  ``ForwardMsg`` down. The server starts nothing on connect: the tab asks for a run.
- a run is ``BackMsg.rerun_script``, a ``ClientState``: the page (``page_name``, the URL path
  of an ``st.Page`` as listed in the ``navigation`` ForwardMsg, and ``page_script_hash``,
  that page's hash from the same list; on a first visit the hash is empty and the name
  alone finds the page), the URL's ``query_string`` (the server rewrites it with
  ``page_info_changed`` when the page writes ``st.query_params``), and ``widget_states``:
  the value of every widget on screen, moved or not, as the browser sends them.
- the run answers with ``new_session`` (its start), ``delta``s (elements and blocks; a
  widget's proto carries its id, range or options, its default and, when the script set
  its value, ``set_value`` with that value), and ``script_finished``: 0 ran to the end,
  1 failed to compile, 2 stopped early because a new run was asked for (``st.rerun``, or
  a click while the page was still running: a ``new_session`` and its own
  ``script_finished`` follow), 3 a fragment's run ended.
- a widget's value field (``WidgetState``): slider ``double_array_value`` (one value,
  or two for a range); select_slider ``string_array_value`` of the formatted options;
  selectbox, radio, text_input and stateful tabs (their label) ``string_value``;
  number_input ``int_value`` / ``double_value``; checkbox and toggle ``bool_value``;
  button ``trigger_value``, true for the one run that the click starts.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISHED, COMPILE_ERROR, EARLY_FOR_RERUN, FRAGMENT_FINISHED = 0, 1, 2, 3
WIDGET_KINDS = ("slider", "selectbox", "radio", "number_input", "checkbox", "text_input", "button")
MOVABLE = ("slider", "select_slider", "selectbox", "radio", "number_input", "checkbox", "tabs")


@dataclass
class Widget:
    """A widget drawn in the last run: its kind, its proto and where it sits."""

    id: str
    kind: str            # a WIDGET_KINDS entry, "select_slider", or "tabs"
    proto: Any
    main: bool           # in the page's main area (not the sidebar)
    labels: list[str] = field(default_factory=list)   # a tab container's tabs

    @property
    def disabled(self) -> bool:
        return bool(getattr(self.proto, "disabled", False))

    @property
    def key(self) -> str:
        """The user key at the end of the id (``$$ID-<hash>-<key>``)."""
        return self.id.rsplit("-", 1)[-1]


def shown_value(widget: Widget) -> Any:
    """The value the widget shows when the client has none of its own: the one the script
    set, else the default (None: no value, as an empty selectbox)."""
    proto, kind = widget.proto, widget.kind
    if kind == "tabs":
        index = proto.default_tab_index
        return widget.labels[index] if index < len(widget.labels) else None
    if kind == "slider":
        return list(proto.value) if proto.set_value else list(proto.default)
    if kind == "select_slider":
        return list(proto.raw_value) if proto.set_value else [proto.options[int(i)] for i in proto.default]
    if kind in ("selectbox", "radio"):
        if proto.set_value:
            return proto.raw_value if proto.HasField("raw_value") else None
        return proto.options[proto.default] if proto.HasField("default") else None
    if kind == "number_input":
        raw = proto.value if proto.set_value else (proto.default if proto.HasField("default") else None)
        return None if raw is None else int(raw) if proto.data_type == 0 else raw
    if kind in ("checkbox", "text_input"):
        return proto.value if proto.set_value else proto.default
    return None  # buttons: a trigger, set only for the run a click starts


def widget_state(widget: Widget, value: Any) -> WidgetState:
    """The WidgetState a browser sends for `value`."""
    state = WidgetState(id=widget.id)
    kind = widget.kind
    if kind == "slider":
        state.double_array_value.data[:] = [float(v) for v in value]
    elif kind == "select_slider":
        state.string_array_value.data[:] = list(value)
    elif kind in ("selectbox", "radio", "text_input", "tabs"):
        state.string_value = value
    elif kind == "number_input":
        if widget.proto.data_type == 0:
            state.int_value = int(value)
        else:
            state.double_value = float(value)
    elif kind == "checkbox":
        state.bool_value = bool(value)
    elif kind == "button":
        state.trigger_value = bool(value)
    return state


def new_value(widget: Widget, current: Any, rng: random.Random) -> Any:
    """A valid value of `widget` other than `current` (when there is another), as a student
    would pick: a step of a slider, an option, a whole number of a box, the other toggle side."""
    proto, kind = widget.proto, widget.kind
    if kind == "slider":
        if proto.data_type not in (Slider.INT, Slider.FLOAT):
            raise ValueError("date and time sliders are not driven")
        steps = max(0, int(math.floor((proto.max - proto.min) / proto.step + 1e-9)))
        count = len(proto.default) or 1
        for _ in range(8):
            picks = sorted(rng.randint(0, steps) for _ in range(count))
            value = [round(proto.min + k * proto.step, 10) for k in picks]
            value = [int(v) for v in value] if proto.data_type == Slider.INT else value
            if value != current:
                return value
        return value
    if kind == "select_slider":
        count = len(proto.default) or 1
        indices = sorted(rng.sample(range(len(proto.options)), count))
        return [proto.options[i] for i in indices]
    if kind in ("selectbox", "radio", "tabs"):
        options = list(widget.labels if kind == "tabs" else proto.options)
        others = [o for o in options if o != current] or options
        return rng.choice(others)
    if kind == "number_input":
        low = proto.min if proto.has_min else 0
        high = min(proto.max if proto.has_max else low + 1000, low + 1000)  # a seed of 0..2^31: a small one
        step = proto.step or 1
        value = low + step * rng.randint(0, int((high - low) // step))
        return int(value) if proto.data_type == 0 else round(value, 10)
    if kind == "checkbox":
        return not current
    raise ValueError(f"{kind} is not driven")


@dataclass
class RunResult:
    """One run asked for: how long until its script_finished, and what went wrong."""

    seconds: float | None            # None: it had not finished when the wait ended
    status: int | None
    errors: list[str]
    error_notices: list[str]         # st.error boxes the page showed (not failures of the server)


class Session:
    """A browser tab: one websocket, the page it is on, its widgets and their values."""

    def __init__(self, base_url: str, rng: random.Random):
        self.base_url = base_url     # http://127.0.0.1:port
        self.rng = rng
        self.ws = None
        self.page = ""               # URL path; "" is the default page
        self.page_hashes: dict[str, str] = {}
        self.query_string = ""
        self.widgets: dict[str, Widget] = {}
        self.values: dict[str, Any] = {}
        self._run: dict[str, Any] = {}

    async def connect(self) -> None:
        url = self.base_url.replace("http://", "ws://") + "/_stcore/stream"
        # no websocket pings: a browser sends none, and a busy server must not be taken for a dead one
        self.ws = await websockets.connect(url, subprotocols=["streamlit"], max_size=None, ping_interval=None,
                                           open_timeout=60)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    def movable(self, main_only: bool = True) -> list[Widget]:
        return [w for w in self.widgets.values() if w.kind in MOVABLE and not w.disabled
                and (w.main or not main_only) and not (w.kind == "slider" and w.proto.data_type > 1)]

    def find_button(self, key_suffix: str) -> Widget | None:
        return next((w for w in self.widgets.values() if w.kind == "button" and w.key.endswith(key_suffix)), None)

    async def send_rerun(self, page: str | None = None, changes: dict[str, Any] | None = None,
                         click: Widget | None = None) -> None:
        """Ask for a run: on another page (`page`), or with some widgets moved or a button clicked."""
        if page is not None and page != self.page:
            self.page, self.query_string = page, ""     # a page link drops the query string
        for widget_id, value in (changes or {}).items():
            self.values[widget_id] = value
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query_string
        state.page_name = self.page
        state.page_script_hash = self.page_hashes.get(self.page, "")
        state.widget_states.SetInParent()
        for widget_id, value in self.values.items():
            if widget_id in self.widgets and value is not None:
                state.widget_states.widgets.append(widget_state(self.widgets[widget_id], value))
        if click is not None:
            state.widget_states.widgets.append(widget_state(click, True))
        info = state.context_info
        info.timezone, info.timezone_offset, info.locale = "UTC", 0, "en-US"
        info.url, info.is_embedded, info.color_scheme = f"{self.base_url}/{self.page}", False, "light"
        self._run = {"sent": time.perf_counter(), "started": False, "errors": [], "notices": [],
                     "widgets": {}, "tabs": {}}
        await self.ws.send(msg.SerializeToString())

    async def wait_finished(self, timeout: float) -> RunResult:
        """Read until the run asked for last ends (a `seconds` of None if `timeout` passes first)."""
        run = self._run
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return RunResult(None, None, run["errors"], run["notices"])
            try:
                data = await asyncio.wait_for(self.ws.recv(), left)
            except TimeoutError:
                return RunResult(None, None, run["errors"], run["notices"])
            except websockets.ConnectionClosed as closed:
                run["errors"].append(f"socket closed by the server ({closed.rcvd.code if closed.rcvd else 'no code'})")
                return RunResult(None, None, run["errors"], run["notices"])
            msg = ForwardMsg()
            msg.ParseFromString(data)
            status = self._read(msg, run)
            if status is not None:
                return RunResult(time.perf_counter() - run["sent"], status, run["errors"], run["notices"])

    def _read(self, msg: ForwardMsg, run: dict) -> int | None:
        """Take in one message; the run's final status once it has ended, else None."""
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            run.update(started=True, widgets={}, tabs={})
        elif kind == "navigation":
            self.page_hashes = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "page_not_found":
            run["errors"].append(f"page not found: {self.page!r}")
        elif kind == "session_event" and msg.session_event.WhichOneof("type") == "script_compilation_exception":
            run["errors"].append("script compilation error: " + msg.session_event.script_compilation_exception.message)
        elif kind == "delta":
            self._read_delta(msg, run)
        elif kind == "script_finished" and run["started"]:
            status = msg.script_finished
            if status == EARLY_FOR_RERUN:      # another run follows (st.rerun, or a newer request)
                run["started"] = False
                return None
            if status == COMPILE_ERROR:
                run["errors"].append("script finished with a compile error")
            if status in (FINISHED, COMPILE_ERROR):
                self._end_run(run)
            return status
        return None

    def _read_delta(self, msg: ForwardMsg, run: dict) -> None:
        delta, path = msg.delta, list(msg.metadata.delta_path)
        main = bool(path) and path[0] == 0
        if delta.WhichOneof("type") == "add_block":
            block = delta.add_block
            if block.WhichOneof("type") == "tab_container" and block.tab_container.HasField("id"):
                widget = Widget(block.tab_container.id, "tabs", block.tab_container, main)
                run["widgets"][widget.id] = widget
                run["tabs"][tuple(path)] = widget
            elif block.WhichOneof("type") == "tab" and tuple(path[:-1]) in run["tabs"]:
                run["tabs"][tuple(path[:-1])].labels.append(block.tab.label)
            return
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind == "exception":
            run["errors"].append(f"exception element on {self.page or 'home'}: "
                                 f"{element.exception.type}: {element.exception.message[:160]}")
        elif kind == "alert" and element.alert.format == 1:   # Alert.ERROR
            run["notices"].append(element.alert.body[:160])
        elif kind in WIDGET_KINDS:
            proto = getattr(element, kind)
            if kind == "slider" and proto.type == Slider.SELECT_SLIDER:
                kind = "select_slider"
            run["widgets"][proto.id] = Widget(proto.id, kind, proto, main)

    def _end_run(self, run: dict) -> None:
        """What the browser keeps after a full run: the widgets drawn, each with its value
        (the one the script set, else the one the tab held, else the default)."""
        widgets = run["widgets"]
        values = {}
        for widget_id, widget in widgets.items():
            if widget.kind == "button":
                continue
            set_by_script = widget.kind == "tabs" or getattr(widget.proto, "set_value", False)
            values[widget_id] = (shown_value(widget) if set_by_script or widget_id not in self.values
                                 else self.values[widget_id])
        self.widgets, self.values = widgets, values

    async def run(self, timeout: float, **rerun: Any) -> RunResult:
        await self.send_rerun(**rerun)
        return await self.wait_finished(timeout)
