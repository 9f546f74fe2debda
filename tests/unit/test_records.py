"""Frozen dataclass rows through CSV and back, and malformed tables refused with the field named."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from seqviz.core import records


@dataclass(frozen=True)
class Row:
    name: str
    count: int
    score: float


def test_rows_round_trip(tmp_path):
    rows = (Row("a", 1, 0.5), Row("b, with a comma", -2, 1e-12))
    path = records.write_records(rows, Row, tmp_path / "rows.csv")
    assert records.read_records(Row, path) == rows


@pytest.mark.parametrize("line,words", [("a,1.5,0.1", "count='1.5' is not a int"),
                                        ("a,1,nan", "score=nan is not finite"),
                                        ("a,1", "score=None is not a float")])
def test_malformed_rows_are_refused_by_field(tmp_path, line, words):
    path = tmp_path / "bad.csv"
    path.write_text(f"name,count,score\n{line}\n")
    with pytest.raises(ValueError, match=words.replace("(", r"\(")):
        records.read_records(Row, path)


def test_merging_keeps_other_rows_and_replaces_rows_with_the_same_key(tmp_path):
    path = tmp_path / "rows.csv"
    records.merge_records([Row("b", 2, 0.2), Row("a", 1, 0.1)], Row, path, key=lambda r: r.name)
    records.merge_records([Row("c", 3, 0.3), Row("a", 9, 0.9)], Row, path, key=lambda r: r.name)
    assert records.read_records(Row, path) == (Row("a", 9, 0.9), Row("b", 2, 0.2), Row("c", 3, 0.3))
