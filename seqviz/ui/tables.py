"""Editable numeric tables (st.data_editor) whose cells live in the URL.

The URL form is short and readable: rows split by ``;``, cells by ``,``, e.g.
``Q=1,1,1,1;0,0,0,1``. Like the other URL-bound widgets (seqviz.ui.params), a
table starts from the URL on a session's first showing, is written back every run
(and dropped when it equals the page's default), and a URL value that cannot be used
(empty, too long, too many rows or columns, ragged rows, a cell that is not a number,
or one the page's own check refuses) is ignored with a visible notice that quotes it
only through ``params.literal`` / ``params.plain``.

A data editor keeps its edits as changes to the table it was first given, so that
table must stay the same while the editor lives: ``bind`` remembers it per session,
and starts a new editor (one with no edits yet) from the cells last written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from seqviz.ui import params

_STARTS = "_seqviz_table_starts"    # key -> (version, the cells its editor started from)
_WRITTEN = "_seqviz_table_written"  # key -> (version, the cells last written to the URL)
_NOTICES = "_seqviz_table_notices"  # key -> (message, the cells taken from the URL)
CELL_CHARACTERS = 24                # the longest cell the URL writes: a float's repr, -1.2345678901234567e-100

Cells = tuple[tuple[str, ...], ...]


def cell_text(value: Any) -> str:
    """A cell as the URL writes it: a number in its shortest exact form (``1``, not ``1.0``)."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def canonical(cells: Sequence[Sequence[Any]]) -> Cells:
    return tuple(tuple(cell_text(c) for c in row) for row in cells)


def encode(cells: Sequence[Sequence[Any]]) -> str:
    """``[[1, 2], [3, 4]]`` -> ``"1,2;3,4"``."""
    return ";".join(",".join(row) for row in canonical(cells))


def decode(raw: str, *, max_rows: int, columns: int,
           check: Callable[[list[list[str]]], Any] = lambda cells: None) -> Cells:
    """The cells of a URL value, or params.BadParam saying (without repeating the value) why
    it cannot be used. Every row must have `columns` numbers; `check(cells)` may raise
    ValueError for what only the page knows (a range, whole numbers)."""
    text = raw.strip()
    if text == "":
        raise params.BadParam("is empty")
    limit = max_rows * columns * (CELL_CHARACTERS + 1)   # every cell and the separator after it
    if len(text) > limit:
        raise params.BadParam(f"is longer than {limit:,} characters")
    rows = [row.split(",") for row in text.split(";")]
    if len(rows) > max_rows:
        raise params.BadParam(f"has {len(rows):,} rows; at most {max_rows} are allowed")
    for i, row in enumerate(rows, start=1):
        if len(row) != columns:
            raise params.BadParam(f"has {len(row):,} cells in row {i}; every row needs {columns}")
        for j, cell in enumerate(row, start=1):
            try:
                number = float(cell)
            except ValueError:
                raise params.BadParam(f"has a cell that is not a number (row {i}, column {j})") from None
            if not math.isfinite(number):
                raise params.BadParam(f"has a cell that is not a finite number (row {i}, column {j})")
    try:
        check([list(row) for row in rows])
    except ValueError as error:
        raise params.BadParam(f"cannot be used: {params.plain(error)}") from None
    return canonical(rows)


@dataclass
class UrlTable:
    """One URL-bound table on this run: the cells its editor starts from, and `write`."""

    key: str
    version: str
    default: Cells
    cells: list[list[str]]
    slot: Any

    def write(self, cells: Sequence[Sequence[Any]]) -> None:
        """Put the table in use into the URL (dropped when it is the default), and show the
        notice about the URL's value for as long as the table taken from it stays."""
        used = canonical(cells)
        st.session_state.setdefault(_WRITTEN, {})[self.key] = (self.version, used)
        notices = st.session_state.get(_NOTICES, {})
        if self.key in notices:
            message, seeded = notices[self.key]
            if used == seeded:
                self.slot.warning(message, icon=":material/link_off:")
            else:
                del notices[self.key]
        try:
            if used == self.default:
                if self.key in st.query_params:
                    del st.query_params[self.key]
            else:
                st.query_params[self.key] = encode(used)
        except Exception:  # noqa: BLE001 - the URL is a convenience, never a failure
            pass


def bind(key: str, default: Sequence[Sequence[Any]], *, editor_key: str, max_rows: int,
         version: str = "", check: Callable[[list[list[str]]], Any] = lambda cells: None,
         container: Any = st) -> UrlTable:
    """The starting cells of the data editor `editor_key`, bound to the URL parameter `key`.

    `version` names the default in use (the page's random draw, say): the URL's value is
    read once per session, for the version shown then; a new version starts from its
    default. Draw the editor from ``.cells``, then call ``.write(cells in use)``.
    The notice about a bad URL value appears where `bind` was called.
    """
    default_cells = canonical(default)
    columns = len(default_cells[0])
    starts = st.session_state.setdefault(_STARTS, {})
    if key not in starts:  # the session's first showing: the URL's value, if it has one
        start, raw = default_cells, st.query_params.get(key)
        if raw is not None:
            try:
                start = decode(raw, max_rows=max_rows, columns=columns, check=check)
            except params.BadParam as error:
                message = (f"URL parameter {params.literal(f'{key}={raw}')} ignored: it {error}; "
                           "using the default table.")
                st.session_state.setdefault(_NOTICES, {})[key] = (message, default_cells)
        starts[key] = (version, start)
    elif editor_key not in st.session_state or starts[key][0] != version:
        # A new editor (a new version, or back on the page): start from what was last in use.
        written = st.session_state.get(_WRITTEN, {}).get(key)
        starts[key] = (version, written[1] if written and written[0] == version else default_cells)
    return UrlTable(key, version, default_cells, [list(row) for row in starts[key][1]], container.empty())
