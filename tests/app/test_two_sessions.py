"""Two students on one server at once: what one trains never reaches the other.

Two `AppTest`s are two sessions of one app in one process, like two browser tabs on one
server: they share `st.cache_resource` (the shipped checkpoints), the shipped files under
models/ and the library's module state, and each has its own `st.session_state`. One
session presses Train in a thread of its own while the other reruns its page in the main
thread, then the other way round. Checked, by SHA-256 of every weight:
- the other session's trained model is bit-for-bit the one it had;
- every value held by `st.cache_resource` (models, data, figures) and every file under
  models/ is bit-for-bit unchanged, as are the models' eval mode and frozen weights;
- the other session's page draws the same thing while the training runs;
- neither session's state holds anything of the other's;
- a seeded run trained beside another session equals the same run trained alone.

AppTest makes a mock Runtime for each run and sets it back to None when the run ends,
which would pull it from under the other session's run; a real server has one Runtime
for every session, so `one_server` gives both sessions one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from unittest.mock import MagicMock

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from streamlit.components.v2.component_manager import BidiComponentManager
from streamlit.runtime import Runtime
from streamlit.runtime.caching import cache_resource_api
from streamlit.runtime.caching.storage.dummy_cache_storage import MemoryCacheStorageManager
from streamlit.runtime.dataframe_source_manager import DataframeSourceManager
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest
from torch import nn

from seqviz.core import checkpoints
from seqviz.core import train as core_train
from seqviz.recurrent import cells
from seqviz.recurrent import train as memory_train
from seqviz.ui import training
from seqviz.ui.attention import regions_live
from seqviz.ui.recurrent import models as recurrent_models
from tests.apptest_helpers import assert_clean, open_page
from tests.hashing import weights_hash

# ---------------------------------------------------------------- fingerprints


def _feed(digest: Any, value: Any, seen: set[int]) -> None:
    """Everything a cached value holds, in a fixed order, into `digest`."""
    if isinstance(value, (str, int, float, bool, type(None), bytes)):
        digest.update(repr(value).encode())
        return
    if id(value) in seen:
        digest.update(b"<seen>")
        return
    seen.add(id(value))
    digest.update(type(value).__qualname__.encode())
    if isinstance(value, nn.Module):
        digest.update(weights_hash(value).encode())
        digest.update(repr([(m.training, [p.requires_grad for p in m.parameters(recurse=False)])
                            for m in value.modules()]).encode())           # eval mode, frozen weights
    elif isinstance(value, torch.Tensor):
        flat = value.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{flat.dtype}{tuple(value.shape)}".encode() + flat.view(torch.uint8).numpy().tobytes())
    elif isinstance(value, np.ndarray):
        digest.update(f"{value.dtype}{value.shape}".encode() + np.ascontiguousarray(value).tobytes())
    elif isinstance(value, go.Figure):
        digest.update(json.dumps(value.to_plotly_json(), sort_keys=True, default=str).encode())
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            _feed(digest, field.name, seen)
            _feed(digest, getattr(value, field.name), seen)
    elif isinstance(value, dict):
        for key in sorted(value, key=repr):
            _feed(digest, key, seen)
            _feed(digest, value[key], seen)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _feed(digest, item, seen)
    elif hasattr(value, "__dict__"):
        _feed(digest, vars(value), seen)
    else:
        digest.update(repr(value).encode())


def cached_resources() -> dict[str, str]:
    """A fingerprint of every value `st.cache_resource` holds now, by function and argument key."""
    found = {}
    for caches in cache_resource_api._resource_caches._function_caches.values():
        for cache in caches.values():
            with cache._mem_cache_lock:
                entries = list(cache._mem_cache.items())
            for key, result in entries:
                digest = hashlib.sha256()
                _feed(digest, result.value, set())
                found[f"{cache.display_name}[{key[:8]}]"] = digest.hexdigest()
    return found


def shipped_files() -> dict[str, str]:
    """SHA-256 of every file under models/."""
    return {str(path.relative_to(checkpoints.MODELS_DIR)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(checkpoints.MODELS_DIR.rglob("*")) if path.is_file()}


def shared_state() -> dict[str, str]:
    """Fingerprints of everything the sessions share: cached resources and shipped files."""
    return {**cached_resources(), **{f"models/{name}": digest for name, digest in shipped_files().items()}}


def assert_unchanged(before: dict[str, str]) -> None:
    """Every shared value and file is bit-for-bit what it was (none gone, none changed)."""
    now = shared_state()
    changed = sorted(name for name in before if now.get(name) != before[name])
    assert not changed, f"changed while a session trained: {changed}"


# ---------------------------------------------------------------- two sessions on one server


@pytest.fixture
def one_server(monkeypatch) -> Iterator[None]:
    """One Runtime for every session for the whole test (a mock like the one AppTest makes for
    each run), instead of one per run that is set back to None when that run ends; and one torch
    thread per thread (what SEQVIZ_THREADS=1 sets), so that two sessions fit a small shared machine (the
    loop threads of seqviz.recurrent.cells.run_sequential, which keep the count they start with,
    are started first)."""
    runtime = MagicMock(spec=Runtime)
    runtime.media_file_mgr = MediaFileManager(MemoryMediaFileStorage("/mock/media"))
    runtime.dataframe_source_mgr = DataframeSourceManager()
    runtime.cache_storage_manager = MemoryCacheStorageManager()
    runtime.bidi_component_registry = BidiComponentManager()
    monkeypatch.setattr(Runtime, "instance", classmethod(lambda cls: runtime))
    monkeypatch.setattr(Runtime, "exists", classmethod(lambda cls: True))
    cells.run_sequential(lambda: None)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class Gate:
    """Holds the next training loop after its first step until `release()`, so that the other
    session's page runs while a model is half-trained (every seqviz module's `train_loop` goes
    through it while the test runs)."""

    def __init__(self) -> None:
        self._armed = False
        self._lock = threading.Lock()
        self.holding = threading.Event()
        self._released = threading.Event()

    def arm(self) -> None:
        self.holding.clear()
        self._released.clear()
        self._armed = True

    def release(self) -> None:
        self._released.set()

    def wrap(self, loop: Callable[..., Any]) -> Callable[..., Any]:
        def gated_loop(step_fn: Callable[[int], Any], steps: int, **kwargs: Any) -> Any:
            with self._lock:
                mine, self._armed = self._armed, False

            def step(index: int) -> Any:
                if mine and index == 1:
                    self.holding.set()
                    assert self._released.wait(60), "the gate was never released"
                return step_fn(index)

            return loop(step if mine else step_fn, steps, **kwargs)
        return gated_loop


@pytest.fixture
def gate(monkeypatch) -> Gate:
    found, loop = Gate(), core_train.train_loop
    gated = found.wrap(loop)
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] == "seqviz" and getattr(module, "train_loop", None) is loop:
            monkeypatch.setattr(module, "train_loop", gated)
    return found


def _job(at: AppTest, key: str) -> training.TrainingJob | None:
    return at.session_state.get(training._JOBS, {}).get(key)


def train_beside(trainer: AppTest, key: str, other: AppTest, look: Callable[[AppTest], Any],
                 gate: Gate | None) -> list[Any]:
    """Press `key`'s button in `trainer` (its run watches the job, in a thread of its own, as a
    server runs each session's script in its own thread) and rerun `other`'s page while the job
    runs: with a `gate`, once the model has taken one step, it is held there for one whole rerun
    of `other`'s page. Returns what `look` saw on `other`'s page at every rerun."""
    errors: list[BaseException] = []
    before = _job(trainer, key)

    def press() -> None:
        try:
            trainer.button(key=f"{key}_start").click().run()
        except BaseException as error:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(error)

    if gate is not None:
        gate.arm()
    pressing = threading.Thread(target=press, name="session-training")
    pressing.start()
    deadline = time.monotonic() + 60
    while (job := _job(trainer, key)) is before or not job.running:
        assert not errors and time.monotonic() < deadline, errors or "the press started no job"
        time.sleep(0.005)
    seen, inside = [], 0
    if gate is not None:
        assert gate.holding.wait(60), "the job never reached its second step"
        other.run()                                  # a whole run while the other's model is half-trained
        assert_clean(other)
        seen.append(look(other))
        inside += job.running
        gate.release()
    while job.running:
        running = job.running
        other.run()
        assert_clean(other)
        seen.append(look(other))
        inside += running and job.running
        time.sleep(0.1)                              # a student's clicks, not a busy loop
    pressing.join(60)
    assert not pressing.is_alive() and not errors, errors
    assert_clean(trainer)
    assert inside >= 1, "no run of the other page happened while the job ran"
    return seen


def session_objects(at: AppTest) -> dict[int, str]:
    """Every mutable object reachable from a session's state (models, tensors, arrays, dicts,
    lists, seqviz objects such as training jobs, and what those hold), by id, with the key it
    hangs from; values held by `st.cache_resource`, shared on purpose (and checked by hash), are
    left out, and so are functions."""
    shared: set[int] = set()
    for caches in cache_resource_api._resource_caches._function_caches.values():
        for cache in caches.values():
            with cache._mem_cache_lock:
                shared.update(id(result.value) for result in cache._mem_cache.values())
    found: dict[int, str] = {}
    stack = [(key, value) for key, value in at.session_state.items()]
    while stack:
        where, value = stack.pop()
        if (id(value) in found or id(value) in shared or isinstance(value, (str, bytes, int, float, bool, type(None)))
                or callable(value) and not isinstance(value, nn.Module)):    # functions: code, not state
            continue
        frozen = isinstance(value, tuple) or (dataclasses.is_dataclass(value)
                                              and type(value).__dataclass_params__.frozen)
        if not frozen:
            found[id(value)] = where
        if isinstance(value, dict):
            stack.extend((where, item) for item in value.values())
        elif isinstance(value, (list, tuple, set)):
            stack.extend((where, item) for item in value)
        elif isinstance(value, nn.Module):
            stack.extend((where, tensor) for tensor in value.state_dict(keep_vars=True).values())
        elif dataclasses.is_dataclass(value):
            stack.extend((where, getattr(value, field.name)) for field in dataclasses.fields(value))
        elif type(value).__module__.split(".")[0] == "seqviz" and hasattr(value, "__dict__"):
            stack.extend((where, item) for item in vars(value).values())      # a training job, say
    return found


def assert_apart(a: AppTest, b: AppTest) -> None:
    """No object of one session's state is in the other's."""
    objects_a, objects_b = session_objects(a), session_objects(b)
    both = objects_a.keys() & objects_b.keys()
    assert not both, sorted({(objects_a[i], objects_b[i]) for i in both})


def captions(at: AppTest) -> str:
    return " ".join(caption.value for caption in at.caption)


def view(at: AppTest) -> str:
    """Every chart, table and metric the page shows."""
    return json.dumps([[c.proto.spec for c in at.get("plotly_chart")], [t.value.to_json() for t in at.table],
                       [(m.label, m.value) for m in at.metric]])


# ---------------------------------------------------------------- the memory page


MEMORY = "pages/memory_tasks.py"


def _small_settings(at: AppTest) -> AppTest:
    """Length 10, hidden size 8, 10 steps, the LSTM only."""
    for key, value in {"mem_steps": 10, "mem_len": 10, "mem_hid": 8}.items():
        at.select_slider(key=key).set_value(value)
    for key in ("mem_rnn_tanh", "mem_tcn"):
        at.toggle(key=key).set_value(False)
    at.run()
    assert_clean(at)
    return at


def _memory_models(at: AppTest) -> dict[tuple[str, str], str]:
    return {key: weights_hash(run.model) for key, run in at.session_state.get(recurrent_models._RESULTS, {}).items()}


def test_two_sessions_training_on_the_memory_page(one_server, gate):
    a = _small_settings(open_page(MEMORY, query={"seed": "1"}))
    b = open_page(MEMORY, query={"seed": "2"})              # the default settings: the shipped models' curves
    assert_clean(b)
    shared = shared_state()
    assert sum(".shipped_model[" in name for name in shared) == 3   # RNN, LSTM, TCN

    # A trains while B's page draws the shipped models; B gets nothing of A's
    seen = train_beside(a, "mem_train", b, view, gate)
    first_a = _memory_models(a)
    assert set(first_a) == {("memory", "lstm")} and _memory_models(b) == {}
    assert len(set(seen)) == 1 and "shipped, seed 0" in seen[0] and "this session" not in seen[0]
    assert_unchanged(shared)

    # B trains while A holds its model
    _small_settings(b)
    view_a = view(a)
    seen = train_beside(b, "mem_train", a, view, gate)
    first_b = _memory_models(b)
    assert _memory_models(a) == first_a and set(seen) == {view_a}
    assert first_b.keys() == first_a.keys() and first_b != first_a          # another seed, another model
    assert_unchanged(shared)

    # A trains again while B holds its model: the same seeded weights as A's first run
    view_b = view(b)
    seen = train_beside(a, "mem_train", b, view, gate)
    assert _memory_models(b) == first_b and set(seen) == {view_b}
    assert _memory_models(a) == first_a
    assert_unchanged(shared)
    assert_apart(a, b)
    assert "Run 2 finished" in captions(a) and "Run 1 finished" in captions(b)

    # what each session trained beside the other is what the same seeded run gives alone
    for at, trained, seed in ((a, first_a, 1), (b, first_b, 2)):
        config = at.session_state[recurrent_models._RESULTS][("memory", "lstm")].config
        assert config.seed == seed
        alone, _ = memory_train.train_memory_model(config)
        assert weights_hash(alone) == trained[("memory", "lstm")]


# ---------------------------------------------------------------- the predictive ViT beside words to regions


VIT, REGIONS = "pages/predictive_vit.py", "pages/words_to_regions.py"
VIT_SMALL = {"vit_tab": "Train your own", "vit_train_on": "the 64 training games", "vit_steps": "10",
             "vit_width": "16", "vit_depth": "1"}


def _vit_model(at: AppTest) -> str | None:
    own = at.session_state.get("_vit_mine")
    return None if own is None else weights_hash(own.model)


def _regions_models(at: AppTest) -> dict[str, str]:
    trained = at.session_state.get("_wr_live", {}).get("models", {})
    return {variant: weights_hash(model) for variant, model in trained.items()}


def test_a_vit_and_the_words_to_regions_models_trained_in_two_sessions(one_server, gate, monkeypatch):
    monkeypatch.setattr(regions_live, "STEPS", (10, *regions_live.STEPS))      # the page's least is 100
    a = open_page(VIT, query={**VIT_SMALL, "seed": "1"})
    b = open_page(REGIONS, query={"wr_live_steps": "10", "seed": "2"})
    assert_clean(a)
    assert_clean(b)
    shared = shared_state()
    assert any(".game_windows[" in name for name in shared)      # the data A trains on
    assert any(".regions.shipped[" in name for name in shared)  # the models B's page draws

    # A trains its ViT on the shared windows of the training games while B's page draws the shipped models
    view_b = view(b)
    seen = train_beside(a, "vit_train", b, view, gate)
    first_a = _vit_model(a)
    assert first_a is not None and set(seen) == {view_b} and _regions_models(b) == {}
    assert "_vit_mine" not in b.session_state
    assert_unchanged(shared)

    # B trains both words-to-regions models while A holds its ViT
    view_a = view(a)
    seen = train_beside(b, "wr_live", a, view, gate)
    first_b = _regions_models(b)
    assert set(first_b) == {"attention", "one-vector"} and "_wr_live" not in a.session_state
    assert _vit_model(a) == first_a and set(seen) == {view_a}
    assert_unchanged(shared)

    # A trains again while B holds its models: the same seeded weights as A's first run
    view_b = view(b)
    seen = train_beside(a, "vit_train", b, view, gate)
    assert _regions_models(b) == first_b and set(seen) == {view_b}
    assert _vit_model(a) == first_a
    assert_unchanged(shared)
    assert_apart(a, b)


# ---------------------------------------------------------------- a recall point beside the captioners' costs


GRADIENTS, CAPTIONING = "pages/gradients.py", "pages/video_captioning.py"


def test_a_recall_run_and_a_captioner_measurement_in_two_sessions(one_server, gate):
    a = open_page(GRADIENTS, query={"seed": "1", "cap_hid": "4", "cap_k": "1", "grad_weights": "trained"})
    b = open_page(CAPTIONING, query={"seed": "1", "cap_tab": "Cost"})
    assert_clean(a)
    assert_clean(b)
    shared = shared_state()
    assert any(".shipped_model[" in name for name in shared)     # A's trained-weights profiles
    assert sum(".captioning.shipped.model[" in name for name in shared) == 3

    # A trains one recall point while B's page shows the captioners
    view_b = view(b)
    seen = train_beside(a, "cap_train", b, view, gate)
    score_a = a.session_state["_seqviz_recall_live"]
    assert set(seen) == {view_b} and "_seqviz_recall_live" not in b.session_state
    assert_unchanged(shared)

    # B times the shared captioners while A holds its result
    view_a = view(a)
    seen = train_beside(b, "cap_measure", a, view, gate=None)
    assert set(seen) == {view_a} and a.session_state["_seqviz_recall_live"] == score_a
    assert "Press **Measure**" not in captions(b)
    assert_unchanged(shared)
    assert_apart(a, b)
