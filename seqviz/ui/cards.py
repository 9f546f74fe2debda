"""Question cards and "Show code" expanders: the page furniture every topic reuses."""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

import streamlit as st

_parsing = threading.Lock()


@functools.cache
def source_of(fn: Callable[..., Any]) -> str | None:
    """`fn`'s source text, read once per server. One thread at a time: inspect parses the file
    with `ast`, and concurrent parses in CPython 3.11 up to 3.11.7 can fail with "AST
    constructor recursion depth mismatch" (seen with thirty sessions at once)."""
    with _parsing:
        try:
            return inspect.getsource(fn)
        except (OSError, TypeError):
            return None


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
            source = source_of(fn)
            if source is None:
                st.caption("source not available")
            else:
                st.code(source, language="python")
