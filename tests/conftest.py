"""Shared fixtures: repository paths, AppTest runs of a page, and widget movers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
os.environ.setdefault("SEQVIZ_THREADS", "2")


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches():
    """Each test starts with empty streamlit caches (no state leaks between tests)."""
    try:
        import streamlit as st
    except ImportError:  # library tests run without streamlit too
        yield
        return
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()
