"""The session sweeper: a session alone past the grace is closed, then the idle server's shared
results cache is emptied once (with a stand-in for Streamlit's runtime)."""

from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from seqviz.plots import memo
from seqviz.ui import charts, janitor


class FakeRuntime:
    def __init__(self):
        self.sessions, self.active, self.closed = set(), set(), []

    @property
    def _session_mgr(self):
        info = lambda ids: [SimpleNamespace(session=SimpleNamespace(id=i)) for i in sorted(ids)]  # noqa: E731
        return SimpleNamespace(list_sessions=lambda: info(self.sessions),
                               list_active_sessions=lambda: info(self.active))

    def close_session(self, session_id):
        self.closed.append(session_id)
        self.sessions.discard(session_id)


def test_a_session_without_a_browser_is_closed_after_the_grace_and_only_then(monkeypatch):
    clock, cleared, collector = [100.0], [], []
    monkeypatch.setattr(janitor.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(st.cache_data, "clear", lambda: cleared.append(clock[0]))
    monkeypatch.setattr(janitor, "_trim", lambda: collector.append("collect"))
    monkeypatch.setattr(janitor.gc, "freeze", lambda: collector.append("freeze"))
    monkeypatch.setattr(janitor.gc, "unfreeze", lambda: collector.append("unfreeze"))
    drawn = memo.memoized(lambda n: go.Figure(go.Bar(y=[n])))
    drawn(1)
    charts.to_png(np.zeros((2, 2)))
    runtime, sweeper = FakeRuntime(), janitor._Sweeper(grace_s=30)
    runtime.sessions = {"a", "b"}
    runtime.active = {"a", "b"}
    assert janitor.sweep_once(runtime, sweeper) == 0
    runtime.active = {"a"}                         # b's tab closed
    assert janitor.sweep_once(runtime, sweeper) == 0
    clock[0] += 29
    assert janitor.sweep_once(runtime, sweeper) == 0 and runtime.closed == []
    runtime.active = {"a", "b"}                    # b reloaded in time: it is kept
    clock[0] += 5
    assert janitor.sweep_once(runtime, sweeper) == 0 and sweeper.alone_since == {}
    runtime.active = {"a"}
    janitor.sweep_once(runtime, sweeper)
    clock[0] += 30
    assert janitor.sweep_once(runtime, sweeper) == 1 and runtime.closed == ["b"] and not cleared
    runtime.active = set()                         # the last tab closes
    janitor.sweep_once(runtime, sweeper)
    clock[0] += 31
    assert janitor.sweep_once(runtime, sweeper) == 1 and runtime.closed == ["b", "a"]
    assert cleared == [clock[0]]                   # nobody left: the shared results go too, once
    assert memo.stats()["kept"] == 0 and not charts._PNGS                   # the figures and pictures too
    # what had been set aside from the collector is collected, then what is left is set aside
    assert collector[-3:] == ["unfreeze", "collect", "freeze"] and collector.count("freeze") == 1
    clock[0] += 60
    janitor.sweep_once(runtime, sweeper)
    assert cleared == [clock[0] - 60]
    runtime.sessions = runtime.active = {"c"}      # a new visitor, who leaves again
    janitor.sweep_once(runtime, sweeper)
    runtime.active = set()
    janitor.sweep_once(runtime, sweeper)
    clock[0] += 31
    assert janitor.sweep_once(runtime, sweeper) == 1 and len(cleared) == 2


def test_without_a_runtime_nothing_starts(monkeypatch):
    from streamlit.runtime import Runtime
    monkeypatch.setattr(janitor, "_thread", None)
    monkeypatch.setattr(Runtime, "exists", staticmethod(lambda: False))
    assert janitor.start() is False and janitor._thread is None
