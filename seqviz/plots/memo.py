"""Figures built once per distinct input, shared by every session that asks for the same one.

Building a plotly figure costs milliseconds of Python per chart (plotly checks every
property as it is set), and a page draws several charts on every rerun, for every student:
on one server the pages' Python shares one interpreter lock, so with a class moving sliders
this cost, not the models, is what makes pages wait. Most charts on a rerun have the same
inputs as before (a slider moves one of them; thirty students open the same defaults), so
`figures(module)` gives the pages a view of a builder module whose figure builders look their
result up by a fingerprint of the arguments first.

A figure handed out here is shared: whoever receives it must not change it (the pages only
draw and export figures; `seqviz.ui.charts` makes its own copies where it needs changes).
Arguments that cannot be fingerprinted (anything but numbers, strings, arrays, tensors and
containers of them) build a fresh figure, as without the cache.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import hashlib
import os
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch


def _max_figures() -> int:
    try:
        return max(0, int(os.environ.get("SEQVIZ_FIGURES", "256") or 256))
    except ValueError:      # a mistyped setting keeps the default rather than stopping the server
        return 256


# SEQVIZ_FIGURES: figures kept, 256 by default (about 30 students x 7 light pages x a few
# charts, at a few 10 kB each); 0 keeps none.
MAX_FIGURES = _max_figures()



class Kept:
    """The most recently used values, up to a limit given at each put; safe across threads."""

    def __init__(self):
        self._items: collections.OrderedDict[Any, Any] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Any, value: Any, limit: int) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > limit:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


_LOCK = threading.Lock()   # the counts
_FIGURES = Kept()
_STATS = {"hits": 0, "misses": 0, "uncached": 0}


class Unhashable(Exception):
    """An argument the fingerprint does not know how to read."""


def _feed(digest: Any, value: Any) -> None:
    """Feed a canonical, typed form of `value` to the digest."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, torch.Tensor):
        _feed(digest, value.detach().cpu().numpy())
    elif isinstance(value, np.ndarray):
        if value.dtype == object:
            digest.update(f"objarray{value.shape};".encode())
            for item in value.ravel():
                _feed(digest, item)
        else:
            digest.update(f"array{value.dtype.str}{value.shape};".encode())
            digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, np.generic):
        _feed(digest, value.item())
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__}{len(value)}[".encode())
        for item in value:
            _feed(digest, item)
        digest.update(b"]")
    elif isinstance(value, dict):
        digest.update(f"dict{len(value)}{{".encode())
        for key, item in value.items():      # in order: a dict's order can change a figure (legend order)
            _feed(digest, key)
            _feed(digest, item)
        digest.update(b"}")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(f"{type(value).__module__}.{type(value).__qualname__}(".encode())
        for field in dataclasses.fields(value):
            _feed(digest, field.name)
            _feed(digest, getattr(value, field.name))
        digest.update(b")")
    else:
        raise Unhashable(type(value).__name__)


def fingerprint(*args: Any, **kwargs: Any) -> str:
    """A digest of the arguments' types and values (arrays by dtype, shape and bytes)."""
    digest = hashlib.blake2b(digest_size=20)
    _feed(digest, args)
    _feed(digest, kwargs)
    return digest.hexdigest()


def memoized(builder: Callable[..., Any]) -> Callable[..., Any]:
    """`builder`, its figures kept (up to MAX_FIGURES, the least recently used dropped)."""

    @functools.wraps(builder)
    def cached(*args: Any, **kwargs: Any) -> Any:
        try:
            key = (builder.__module__, builder.__qualname__, fingerprint(*args, **kwargs))
        except Unhashable:
            with _LOCK:
                _STATS["uncached"] += 1
            return builder(*args, **kwargs)
        fig = _FIGURES.get(key)
        if fig is not None:
            with _LOCK:
                _STATS["hits"] += 1
            return fig
        fig = builder(*args, **kwargs)
        if isinstance(fig, go.Figure) and MAX_FIGURES > 0:
            with _LOCK:
                _STATS["misses"] += 1
            _FIGURES.put(key, fig, MAX_FIGURES)
        return fig

    return cached


class _Figures:
    """A builder module seen through the cache: its functions memoized, anything else as it is."""

    def __init__(self, module: ModuleType):
        self._module = module
        self._wrapped: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._module, name)
        if not callable(value) or isinstance(value, type) or name.startswith("_"):
            return value
        if name not in self._wrapped:
            self._wrapped[name] = memoized(value)
        return self._wrapped[name]


def figures(module: ModuleType) -> Any:
    """`module` with its figure builders memoized: `plots = figures(softmax)`; plots.output_bars(...)."""
    return _Figures(module)


def clear() -> None:
    """Forget every kept figure (the server does so once the last session has gone)."""
    _FIGURES.clear()


def stats() -> dict[str, int]:
    """Hits, misses, calls that could not be cached, and figures kept now."""
    with _LOCK:
        return {**_STATS, "kept": len(_FIGURES)}
