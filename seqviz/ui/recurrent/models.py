"""Recurrent models for the pages: shipped checkpoints (shared, eval mode), untrained ones
drawn from a seed, and this session's trained ones (per student, in session state)."""

from __future__ import annotations

import streamlit as st
from torch import nn

from seqviz.recurrent import capacity, results, seeds
from seqviz.recurrent import train as memory_train

_RESULTS = "rnn_session_results"


def _frozen(model: nn.Module) -> nn.Module:
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.eval()


@st.cache_resource(show_spinner=False)
def shipped_model(task: str, kind: str) -> nn.Module:
    """The shipped checkpoint, shared by every session; eval mode, never trained."""
    model, _, _ = memory_train.load_shipped(task, kind)
    return _frozen(model)


@st.cache_resource(show_spinner=False, max_entries=64)
def untrained_model(kind: str, seed: int) -> nn.Module:
    """A fresh model (hidden size of the shipped ones), its weights drawn from the seed; shared."""
    return _frozen(memory_train.build_model(kind, memory_train.MemoryConfig().hidden, 3, seed=seed))


def shipped_history(task: str, kind: str) -> tuple[results.EvalPoint, ...]:
    """The evaluation history recorded when the shipped checkpoint was trained."""
    return results.shipped_history(task, kind)


@st.cache_data(show_spinner=False)
def seed_runs() -> tuple[seeds.SeedRun, ...]:
    """The shipped multi-seed results (models/memory_seeds.csv)."""
    return seeds.read_csv(seeds.SEEDS_FILE)


@st.cache_data(show_spinner=False)
def capacity_rows() -> tuple[capacity.CapacityRow, ...]:
    """The shipped recall-k sweep (models/capacity_recall.csv)."""
    return capacity.read_csv(capacity.RECALL_FILE)


def session_results() -> dict[tuple[str, str], results.MemoryRun]:
    """(task, kind) -> the MemoryRun trained in this session (models on the CPU)."""
    return st.session_state.setdefault(_RESULTS, {})
