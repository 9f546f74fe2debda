"""Recurrent models for the pages: shipped checkpoints (shared, eval mode) and this
session's trained ones (per student, in session state)."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st
import torch
from torch import nn

from seqviz.recurrent import train as memory_train

_RESULTS = "rnn_session_results"


@st.cache_resource(show_spinner=False)
def shipped_model(task: str, kind: str) -> nn.Module:
    """The shipped checkpoint, shared by every session; eval mode, never trained."""
    model, _, _ = memory_train.load_shipped(task, kind)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.eval()


@st.cache_resource(show_spinner=False)
def untrained_model(kind: str, seed: int) -> nn.Module:
    """A freshly initialised model (hidden size of the shipped ones) from the seed; shared."""
    torch.manual_seed(seed)
    model = memory_train.build_model(kind, memory_train.MemoryConfig().hidden, 3)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.eval()


@st.cache_data(show_spinner=False)
def shipped_history(task: str, kind: str) -> list[dict[str, float]]:
    """The evaluation history recorded when the shipped checkpoint was trained."""
    return json.loads(memory_train.HISTORY_FILE.read_text())["histories"][task][kind]


def session_results() -> dict[tuple[str, str], dict[str, Any]]:
    """(task, kind) -> {"config", "model", "history"} trained in this session."""
    return st.session_state.setdefault(_RESULTS, {})
