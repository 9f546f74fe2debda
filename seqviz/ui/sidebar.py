"""The sidebar every page shares: device choice and global random seed, both in the URL,
and a link that reopens the page as it is now."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlencode

import streamlit as st
import torch

from seqviz.core import device as devices
from seqviz.ui import params, present

T = TypeVar("T")
DEVICE_KEY = "device"
SEED_KEY = "seed"
MAX_SEED = 2**31 - 1


def _refuse_gpu(option: str) -> str | None:
    return devices.gpu_unavailable_reason() if option == "GPU" else None


def _gpu_clicked_without_gpu() -> None:
    reason = _refuse_gpu(st.session_state.get(DEVICE_KEY, "Auto"))
    if reason:
        st.session_state[DEVICE_KEY] = "Auto"
        st.toast(f"No GPU here: {reason}. Staying on Auto (CPU).", icon=":material/memory:")


def render() -> None:
    """Draw the shared sidebar controls. Call once per run, from app.py."""
    bar = st.sidebar
    bar.markdown("### Compute")
    reason = devices.gpu_unavailable_reason()
    captions = ["GPU for batched work, CPU for small loops", "always the CPU",
                f"unavailable: {reason}" if reason else f"{devices.gpu_backend().upper()} for everything"]
    params.choice("Device", devices.CHOICES, "Auto", key=DEVICE_KEY, container=bar,
                  refuse=_refuse_gpu, captions=captions, on_change=_gpu_clicked_without_gpu,
                  help="Where the models on every page run. Auto sends batched work to a GPU "
                       "when there is one and keeps small sequential loops on the CPU.")
    params.number_input("Random seed", 0, MAX_SEED, 0, key=SEED_KEY, container=bar,
                        help="Everything random on every page (weights, data, samples) "
                             "is drawn from this seed, so a demo can be repeated exactly.")
    bar.markdown("### Display")
    present.switch(bar)
    bar.caption("Light or dark: the app follows the system's setting, and the ⋮ menu at the top "
                "right picks System, Light or Dark; every chart follows it.")


def device_choice() -> str:
    """The user's device choice, "Auto" / "CPU" / "GPU"."""
    value = st.session_state.get(DEVICE_KEY, "Auto")
    return value if value in devices.CHOICES else "Auto"


def device_for(workload: devices.Workload = "batched") -> torch.device:
    """The torch.device this session's work of the given kind runs on."""
    return devices.resolve(device_choice(), workload)


def seed() -> int:
    """The global seed from the sidebar."""
    value = st.session_state.get(SEED_KEY, 0)
    return int(value) if isinstance(value, (int, float)) else 0


def run_on_device(fn: Callable[[torch.device], T], workload: devices.Workload = "batched") -> T:
    """Run ``fn(device)`` on this session's device; a GPU failure reruns on the CPU, visibly."""
    result, used, notice = devices.run_with_fallback(fn, device_for(workload))
    if notice:
        st.warning(notice, icon=":material/memory:")
    return result


def share_url() -> str:
    """This page's address with every setting now in the URL (rows of a table keep their
    readable ``;`` and ``,``). Relative (``?…``) when the browser's address is unknown."""
    query = urlencode(st.query_params.to_dict(), safe=",;")
    base = st.context.url or ""
    return f"{base}?{query}" if query else (base or "?")


def render_share_link() -> None:
    """The "Share this demo" box. Call from app.py after the page ran, so that the link holds
    what the page's widgets wrote to the URL in this run."""
    with st.sidebar.expander("Share this demo", icon=":material/share:"):
        st.code(share_url(), language=None, wrap_lines=True)
        st.caption("Copy this link (the box's copy button shows when the pointer is over it) to "
                   "reopen this page with the same settings, tables and seed, so the same numbers. "
                   "Not in the link: an uploaded "
                   "video (the link reopens the built-in video) and models trained in this session "
                   "(the link reopens the shipped ones; train again with the same settings).")
