"""Question cards and "Show code" expanders: the page furniture every topic reuses."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import streamlit as st


def question_card(question: str, explanation: str, *, expanded: bool = False) -> Any:
    """A bordered card headed by the question its figures answer.

    Use it as a context manager and draw the figures inside:
    ``with question_card("Why ...?", "Because ..."): show_chart(...)``.
    """
    card = st.container(border=True)
    card.markdown(f"#### {question}")
    with card.expander("Why? The explanation", expanded=expanded):
        st.markdown(explanation)
    return card


def show_code(*functions: Callable[..., Any], label: str = "Show code") -> None:
    """An expander with the source of the seqviz functions behind a figure."""
    with st.expander(label, icon=":material/code:"):
        for fn in functions:
            st.caption(f"`{fn.__module__}.{fn.__qualname__}`")
            try:
                st.code(inspect.getsource(fn), language="python")
            except (OSError, TypeError):
                st.caption("source not available")
