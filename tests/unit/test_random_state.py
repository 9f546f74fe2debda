"""No process-global random state in seqviz: seeded calls agree whether or not other threads draw.

Two students rerunning a page at the same moment run the library in two threads of one
process. If a function drew from torch's or numpy's global generator, one student's
draws would shift the other's. Every draw takes a generator made from its own seed.
"""

from __future__ import annotations

import ast
import threading

import numpy as np
import torch

from seqviz.attention import permutation, softmax
from seqviz.recurrent import gradients, tasks
from seqviz.recurrent import train as memory_train
from seqviz.vit import video
from tests.conftest import ROOT

GLOBAL_CALLS = {"manual_seed", "seed", "fork_rng", "set_rng_state", "get_rng_state"}
DRAWS = {"randn", "rand", "randint", "randperm", "normal", "bernoulli", "multinomial", "randn_like",
         "rand_like", "randint_like"}


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            yield node, node.func.attr, ast.unparse(node.func.value)


def test_library_never_touches_global_generators():
    offenders = []
    for file in (ROOT / "seqviz").rglob("*.py"):
        for node, name, owner in _calls(ast.parse(file.read_text())):
            where = f"{file.relative_to(ROOT)}:{node.lineno} {owner}.{name}"
            keywords = {k.arg for k in node.keywords}
            if name == "manual_seed" and owner.endswith("Generator()") or "Generator(" in owner:
                continue  # torch.Generator().manual_seed(s): a private generator
            if name in GLOBAL_CALLS and owner.split(".")[0] in {"torch", "np", "numpy", "random"}:
                offenders.append(where)
            if name in DRAWS and owner in {"torch", "np.random", "numpy.random"} and "generator" not in keywords:
                offenders.append(where)
            deterministic = name.endswith(("ones_", "zeros_", "constant_"))
            if owner.startswith("nn.init") and "generator" not in keywords and not deterministic:
                offenders.append(where)
    assert offenders == []


def _seeded_results():
    x, y = tasks.memory_task(16, 20, seed=3, generalize=True, split="val")
    return {
        "memory_task": x.numpy(),
        "game": video.synthetic_game(6, size=16, seed=5),
        "dot_products": np.array([softmax.dot_product_stats(64, seed=7).raw_max_weight]),
        "model": next(memory_train.build_model("lstm", 8, 20, seed=11).parameters()).detach().numpy().copy(),
        "gradients": gradients.hidden_grad_norms("rnn-tanh", 50, 16, seed=2),
        "permutation": np.array([permutation.run_experiment(pos_encoding="learned", seed=4).max_gap]),
    }


def test_seeded_calls_agree_in_parallel_threads():
    alone = _seeded_results()
    results, errors = [None] * 4, []

    def worker(i: int) -> None:
        try:
            torch.randn(1000)  # another session drawing from the global generator meanwhile
            results[i] = _seeded_results()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for result in results:
        for name, value in alone.items():
            np.testing.assert_array_equal(result[name], value, err_msg=name)
