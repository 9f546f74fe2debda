"""Seeded training does not depend on what else runs in the process.

Students share one server: each session trains in a thread of its own, beside the others.
A seeded run must give the same weights whether it runs alone or beside other training, and
whatever anyone does to torch's, numpy's or Python's global generators meanwhile. So no
training, data or model-building path of seqviz may draw from those generators: not even the
default initialisation torch runs when a layer is built (its draws are overwritten by
seqviz.core.rng.init_parameters, but they move the global generator under everyone else).
The app-level counterpart, two AppTest sessions training at once, is tests/app/test_two_sessions.py.
"""

from __future__ import annotations

import ast
import dataclasses
import random
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import nn

from seqviz.attention import regions_experiment, regions_train
from seqviz.attention.words_to_regions import RegionsConfig
from seqviz.captioning import data as caption_data
from seqviz.captioning import experiment as caption_experiment
from seqviz.captioning import models as caption_models
from seqviz.captioning import train as caption_train
from seqviz.captioning.cost import one_call
from seqviz.recurrent import capacity, cells
from seqviz.recurrent import train as memory_train
from seqviz.vit import experiment as vit_experiment
from seqviz.vit import model as vit_model
from seqviz.vit import train as vit_train
from seqviz.vit import video
from tests.conftest import ROOT
from tests.hashing import weights_hash

# ---------------------------------------------------------------- one small run of every trainer


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One torch thread per thread, so that three busy threads fit a small shared machine (the
    loop threads of seqviz.recurrent.cells.run_sequential are started first: they keep the
    count they start with)."""
    cells.run_sequential(lambda: None)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)



VIT = vit_model.ViTConfig(frames=2, image_size=16, patch_size=4, width=16, depth=1, heads=2)


def _memory(seed: int) -> nn.Module:
    return memory_train.train_memory_model(memory_train.MemoryConfig(
        kind="gru", length=10, hidden=8, steps=20, eval_every=10, seed=seed))[0]


def _recall(seed: int) -> nn.Module:
    return capacity.train_recall(capacity.RecallConfig(hidden=4, k=1, steps=20, seed=seed))[0]


def _vit(seed: int) -> nn.Module:
    frames = video.synthetic_game(12, size=16, seed=5)
    settings = vit_train.TrainSettings(steps=10, batch_size=4, seed=seed, change_weight=3.0, warmup_steps=2)
    return vit_train.train(VIT, frames, settings, torch.device("cpu")).model


def _regions(seed: int) -> nn.Module:
    settings = dataclasses.replace(regions_train.SETTINGS, steps=5, batch=16)
    models, _, _ = regions_experiment.train_side_by_side(seed, settings, test=regions_experiment.test_set(5),
                                                         evaluate_every=5)
    return nn.ModuleDict(models)


def _captioner(seed: int) -> nn.Module:
    model = caption_models.build(caption_experiment.VARIANTS["live"], seed)
    settings = caption_train.TrainSettings(steps=5, batch=8, seed=seed,
                                           frames=caption_train.FrameSettings(steps=2, clips=8, frames=2))
    caption_train.train(model, settings, clips=caption_data.make_clips(16, seed=seed, split="train"))
    return model


TRAINERS: dict[str, Callable[[int], nn.Module]] = {
    "memory task": _memory, "recall-k": _recall, "predictive ViT": _vit, "words to regions": _regions,
    "captioner": _captioner}


# ---------------------------------------------------------------- the global generators


def _global_states() -> tuple:
    return torch.get_rng_state(), np.random.get_state(), random.getstate()


def _moved(before: tuple, after: tuple) -> list[str]:
    """Which of the global generators (torch's, numpy's, Python's) moved between two states."""
    (torch_a, numpy_a, python_a), (torch_b, numpy_b, python_b) = before, after
    same_numpy = numpy_a[0] == numpy_b[0] and np.array_equal(numpy_a[1], numpy_b[1]) and numpy_a[2:] == numpy_b[2:]
    return [name for name, same in (("torch", torch.equal(torch_a, torch_b)), ("numpy", same_numpy),
                                    ("random", python_a == python_b)) if not same]


def _restore(states: tuple) -> None:
    torch.set_rng_state(states[0])
    np.random.set_state(states[1])
    random.setstate(states[2])


BUILDERS: dict[str, Callable[[], object]] = {
    "build a memory model": lambda: memory_train.build_model("lstm", 8, 10, seed=1),
    "load a shipped memory model": lambda: memory_train.load_shipped("memory", "tcn"),
    "build a predictive ViT": lambda: vit_model.build(VIT, 1),
    "load a shipped predictive ViT": lambda: vit_experiment.load_checkpoint("no_pos", 0),
    "build a words-to-regions model": lambda: regions_train.new_model(RegionsConfig("attention"), 1),
    "load a shipped words-to-regions model": lambda: regions_experiment.load_shipped("one-vector", 0),
    "build a captioner": lambda: caption_models.build(caption_experiment.VARIANTS["offline-flow"], 1),
    "load a shipped captioner": lambda: caption_experiment.load_checkpoint("per-frame", 0),
    "copy a captioner for a device": lambda: one_call(caption_experiment.load_shipped("live"),
                                                      np.zeros((2, 32, 32, 3), np.uint8), "meta"),
    **{f"train: {name}": lambda train=train: train(1) for name, train in TRAINERS.items()},
}


@pytest.mark.parametrize("name", BUILDERS)
def test_building_loading_and_training_never_draw_from_the_global_generators(name):
    before = _global_states()
    BUILDERS[name]()
    assert _moved(before, _global_states()) == [], f"{name}: moved a process-global generator"


def test_seeded_training_is_the_same_alone_and_beside_other_training():
    """Every trainer, seeded, alone; then again in one thread while a second thread trains them all
    from other seeds and a third keeps reseeding and drawing from the global generators."""
    saved = _global_states()
    alone = {name: weights_hash(train(3)) for name, train in TRAINERS.items()}
    beside: dict[str, str] = {}
    errors: list[BaseException] = []
    done = threading.Event()

    def session(results: dict[str, str] | None, seed: int, names: list[str]) -> None:
        try:
            for name in names:
                trained = weights_hash(TRAINERS[name](seed))
                if results is not None:
                    results[name] = trained
        except BaseException as error:  # noqa: BLE001 - reported in the test's thread
            errors.append(error)

    def careless_neighbour() -> None:
        draw = 0
        while not done.is_set():
            draw += 1
            torch.manual_seed(draw)
            np.random.seed(draw)
            random.seed(draw)
            torch.randn(64)
            np.random.rand(64)
            random.random()
            time.sleep(0.001)

    threads = [threading.Thread(target=session, args=(beside, 3, list(TRAINERS))),
               threading.Thread(target=session, args=(None, 4, list(reversed(TRAINERS))))]
    neighbour = threading.Thread(target=careless_neighbour)
    try:
        neighbour.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        done.set()
        neighbour.join(10)
        _restore(saved)
    assert errors == [] and not any(thread.is_alive() for thread in threads)
    assert beside == alone


# ---------------------------------------------------------------- what the source may not call


RANDOM_METHODS = {"uniform_", "normal_", "random_", "bernoulli_", "exponential_", "cauchy_", "log_normal_",
                  "geometric_"}


def test_the_library_has_no_dropout_shuffling_or_unseeded_random_calls():
    """tests/unit/test_random_state.py bans torch.manual_seed, np.random.seed and unseeded torch
    draws; this bans the other ways to reach a global generator: dropout (it draws from torch's),
    Python's `random` module, a tensor filled in place from a distribution without a generator,
    and data loaders that shuffle."""
    offenders = []
    for file in sorted((ROOT / "seqviz").rglob("*.py")):
        tree = ast.parse(file.read_text())
        for node in ast.walk(tree):
            where = f"{file.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if (isinstance(node, ast.Import) and any(alias.name == "random" for alias in node.names)
                    or isinstance(node, ast.ImportFrom) and node.module == "random"):
                offenders.append(f"{where} imports random")
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            keywords = {k.arg: k.value for k in node.keywords}
            if "dropout" in name.lower() or any(k and "dropout" in k for k in keywords):
                dropout = keywords.get("dropout", keywords.get("dropout_p"))
                if not (isinstance(dropout, ast.Constant) and dropout.value == 0):
                    offenders.append(f"{where} {name}: dropout")
            if name in RANDOM_METHODS and "generator" not in keywords:
                offenders.append(f"{where} {name} without a generator")
            if name in {"DataLoader", "RandomSampler"} and "generator" not in keywords:
                offenders.append(f"{where} {name} without a generator")
    assert offenders == []
