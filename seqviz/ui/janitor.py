"""Closed tabs give their memory back: sessions left without a browser are shut down promptly.

Streamlit keeps a session whose websocket closed for `server.disconnectedSessionTTL`
(two minutes by default) so that a reloading tab finds its state again, and it only
forgets expired sessions when another visitor arrives. With a class on one server that
keeps every closed tab's models, uploads and results in memory. Here one thread per
server looks every few seconds; a session that has had no browser for GRACE_S seconds
(SEQVIZ_SESSION_GRACE_S, default 30: long enough for a reload or a network hiccup) is
closed through `Runtime.close_session`, on Streamlit's event loop as it requires, which
drops its session state and its uploaded files; its training job, if any, has already
stopped (the job checks that its session is alive inside every step). When the last session
is gone, the results cached for everyone (`st.cache_data`: figures and arrays per widget
value; the figures and pictures drawn, seqviz.plots.memo; all refilled in milliseconds by the
next visitor) are dropped too; the models loaded once
for all (`st.cache_resource`) stay. Then the process returns freed memory to the operating
system (`malloc_trim` where glibc has it), so an idle server is back to its idle size.

Python's cycle collector, every so often, walks every object the process holds, and no
thread runs meanwhile: with torch, plotly and streamlit loaded that took 250-400 ms here,
seven times a minute with a class on the light pages, and the pages waiting on it made the
slowest 5 % of reruns. So the objects the server itself holds (the libraries, the models
loaded once) are set aside from those walks (`gc.freeze`) when the first page runs, and again
whenever the last session has gone (after a full collection of what was set aside before, so
nothing a session left behind stays).
"""

from __future__ import annotations

import ctypes
import gc
import os
import threading
import time

from streamlit.logger import get_logger

__all__ = ["start", "GRACE_S", "EVERY_S", "sweep_once"]

EVERY_S = 5.0
_log = get_logger(__name__)     # shown with --logger.level info
_started = threading.Lock()
_thread: threading.Thread | None = None


def _grace_s() -> float:
    try:
        return max(0.0, float(os.environ.get("SEQVIZ_SESSION_GRACE_S", 30)))
    except ValueError:
        return 30.0


GRACE_S = _grace_s()


def _trim() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: freed memory goes back as the allocator sees fit
        pass


class _Sweeper:
    """Remembers since when each session has had no browser; closes those past the grace."""

    def __init__(self, grace_s: float):
        self.grace_s = grace_s
        self.alone_since: dict[str, float] = {}
        self.idle_cleared = True     # nothing cached for sessions yet

    def expired(self, all_ids: set[str], active_ids: set[str], now: float) -> list[str]:
        alone = all_ids - active_ids
        self.alone_since = {sid: self.alone_since.get(sid, now) for sid in alone}
        return [sid for sid, since in self.alone_since.items() if now - since >= self.grace_s]


def sweep_once(runtime, sweeper: _Sweeper) -> int:
    """On the event loop: close the sessions alone past the grace; returns how many."""
    manager = runtime._session_mgr                      # noqa: SLF001 - no public list of stored sessions
    all_ids = {info.session.id for info in manager.list_sessions()}
    active_ids = {info.session.id for info in manager.list_active_sessions()}
    closed = sweeper.expired(all_ids, active_ids, time.monotonic())
    for session_id in closed:
        runtime.close_session(session_id)
        sweeper.alone_since.pop(session_id, None)
    if closed:
        _log.info("closed %d session(s) without a browser for %.0f s", len(closed), sweeper.grace_s)
    idle = not (all_ids - set(closed))
    newly_idle = idle and not sweeper.idle_cleared
    if newly_idle:
        import streamlit as st

        from seqviz.plots import memo
        from seqviz.ui import charts
        st.cache_data.clear()
        figures = memo.stats()
        memo.clear()
        charts.forget_pictures()
        _log.info("no session left: the shared results cache was emptied (figures drawn from it: %d, built: "
                  "%d, not cacheable: %d)", figures["hits"], figures["misses"], figures["uncached"])
    sweeper.idle_cleared = idle
    if newly_idle:
        gc.unfreeze()       # what was set aside as the server's own may have become garbage since
    if closed or newly_idle:
        _trim()
    if newly_idle:
        gc.freeze()         # with no session left, all that is alive is the server's own
    return len(closed)


def _loop(runtime, loop, sweeper: _Sweeper) -> None:
    while True:
        time.sleep(EVERY_S)
        try:
            if loop.is_closed():
                return
            loop.call_soon_threadsafe(sweep_once, runtime, sweeper)
        except Exception:  # noqa: BLE001 - a failed sweep must never take the server down
            _log.exception("session sweep failed")


def start() -> bool:
    """Start the sweeping thread once per server (a no-op under AppTest, with no runtime)."""
    global _thread
    with _started:
        if _thread is not None:
            return True
        try:
            from streamlit.runtime import Runtime
            if not Runtime.exists():
                return False
            runtime = Runtime.instance()
            loop = runtime._get_async_objs().eventloop   # noqa: SLF001 - close_session must run on it
        except Exception:  # noqa: BLE001 - without a runtime there is nothing to sweep
            return False
        _thread = threading.Thread(target=_loop, args=(runtime, loop, _Sweeper(GRACE_S)),
                                   name="seqviz-session-sweeper", daemon=True)
        _thread.start()
        gc.collect()
        gc.freeze()         # the libraries and models loaded so far: see the module's notes
        return True
