"""||dL/dh_t|| for every step: one backward pass against one backward pass per step.

`seqviz.recurrent.gradients.hidden_grad_norms` takes every gradient from one backward pass
(autograd.grad over the list of hidden states). The baseline runs
`torch.autograd.grad(loss, h_t, retain_graph=True)` once per step, which walks the
graph from the loss back to h_t every time: O(T^2) work. Baseline lengths are capped
so the script finishes in under two minutes; nothing is extrapolated.

    .venv/bin/python bench/gradients.py [--hidden 64] [--baseline-max 1000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from seqviz.recurrent import gradients

ROOT = Path(__file__).resolve().parent.parent


def timed(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--baseline-max", type=int, default=None,
                        help="longest sequence the per-step baseline is run on "
                             "(default 1000 for rnn-tanh, 500 for the others: under 2 minutes)")
    parser.add_argument("--kinds", nargs="*", default=["rnn-tanh", "lstm"])
    args = parser.parse_args()
    print(f"torch {torch.__version__}, CPU, hidden {args.hidden}, "
          f"torch threads outside the timed loops: {torch.get_num_threads()}")
    gradients.hidden_grad_norms("rnn-tanh", 50, args.hidden)  # warm-up
    for kind in args.kinds:
        for length in (100, 200, 500, 1000, 2000):
            fast, norms = timed(lambda: gradients.hidden_grad_norms(kind, length, args.hidden), 5)
            line = f"{kind:8s} length {length:5d}  one pass {fast * 1000:8.1f} ms"
            cap = args.baseline_max or (1000 if kind.startswith("rnn") else 500)
            if length <= cap:
                slow, reference = timed(lambda: gradients.hidden_grad_norms_per_step(
                    kind, length, args.hidden), 1)
                gap = float(np.max(np.abs(norms - reference) / np.maximum(reference, 1e-30)))
                line += (f"  per-step baseline {slow * 1000:9.1f} ms  ratio {slow / fast:7.1f}x"
                         f"  (largest relative gap {gap:.1e})")
            else:
                line += f"  per-step baseline not run (capped at {cap})"
            print(line, flush=True)


if __name__ == "__main__":
    main()
