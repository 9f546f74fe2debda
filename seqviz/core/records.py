"""Frozen dataclass rows to and from CSV: the shipped result tables under models/.

One row per record, one column per field, in field order. Reading checks every value
against its field's type (str, int, float) and refuses non-finite floats, so a damaged
table fails loudly instead of drawing a wrong figure.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

__all__ = ["write_records", "read_records", "merge_records"]

R = TypeVar("R")
_PARSERS = {"str": str, "int": int, "float": float}


def write_records(rows: Iterable[object], cls: type, path: str | Path) -> Path:
    """Write dataclass `rows` of type `cls` to a CSV at `path`; returns the path."""
    path = Path(path)
    names = [f.name for f in dataclasses.fields(cls)]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        for row in rows:
            writer.writerow(dataclasses.asdict(row))
    return path


def read_records(cls: type[R], path: str | Path) -> tuple[R, ...]:
    """The rows `write_records` wrote; ValueError naming the field when a value is malformed."""
    fields = [(f.name, _PARSERS[f.type if isinstance(f.type, str) else f.type.__name__])
              for f in dataclasses.fields(cls)]
    rows = []
    with Path(path).open(newline="") as handle:
        for line, raw in enumerate(csv.DictReader(handle), start=2):
            values = {}
            for name, parse in fields:
                try:
                    values[name] = parse(raw[name])
                except (KeyError, TypeError, ValueError) as error:
                    raise ValueError(f"{Path(path).name} line {line}: {name}={raw.get(name)!r} "
                                     f"is not a {parse.__name__}") from error
                if parse is float and not math.isfinite(values[name]):
                    raise ValueError(f"{Path(path).name} line {line}: {name}={raw[name]} is not finite")
            rows.append(cls(**values))
    return tuple(rows)


def merge_records(rows: list, cls: type, path: str | Path, key: Callable) -> None:
    """Write `rows` into the CSV at `path`, keeping the rows already there whose key(row) no new
    row has, all sorted by key."""
    path = Path(path)
    new = {key(row) for row in rows}
    kept = [row for row in (read_records(cls, path) if path.exists() else []) if key(row) not in new]
    write_records(sorted(kept + list(rows), key=key), cls, path)
