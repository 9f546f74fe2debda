"""Caching wrappers: pure seqviz functions memoised by their (hashable) arguments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

_WRAPPED: dict[Callable[..., Any], Callable[..., Any]] = {}


def cached(fn: Callable[..., Any], max_entries: int = 128) -> Callable[..., Any]:
    """``st.cache_data`` around a deterministic seqviz function (results are copied per call).

    Pass devices as strings: the cache key is built from the arguments.
    """
    if fn not in _WRAPPED:
        _WRAPPED[fn] = st.cache_data(fn, max_entries=max_entries, show_spinner=False)
    return _WRAPPED[fn]
