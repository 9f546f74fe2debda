"""||dL/dh_t|| for every step: the one-pass sweep against one backward per step and torch's fused floor.

For each model kind and length, three things are timed in the same run, warmed up and
interleaved round by round (seqviz.core.timing.interleaved), medians reported:

- one pass: `seqviz.recurrent.gradients.hidden_grad_norms`, as the Gradients page calls it
  (fresh seeded weights, rho = 1, every ||dL/dh_t|| from one closed-form backward sweep,
  seqviz.recurrent.bptt; the TCN's ||dL/dx_t|| from one autograd pass);
- per step: `hidden_grad_norms_per_step`, the pedagogical reference, one autograd backward
  from the loss to each h_t in turn (O(T^2) work);
- fused floor: torch's nn.RNN / nn.LSTM / nn.GRU (for the TCN nn.Conv1d) holding the same
  weights, one forward and one backward of the same loss on the same sequence. It gives
  the weights' gradients but no dL/dh_t for any t < T, so it bounds what one backward
  pass over this recurrence can cost; the one-pass time also includes building the model.

All three run on the thread seqviz keeps for long per-step loops (one torch thread,
cells.run_sequential), as in the app. The one-pass norms are checked against the
per-step ones (largest relative gap, over norms above 1e-30). Target: every kind at most 50 ms at length 1000,
hidden 64, on the 2-core CPU. `--device cuda` times all three on the GPU instead (the model,
the sequence and the fused twin on the device; each call synchronised by seqviz.core.timing).

    python -m bench.gradients [--lengths 100 1000] [--hidden 64] [--rounds 3] [--kinds lstm gru] [--device cpu|cuda]

On a GPU machine, from the repository root: `PYTHONPATH=. python3 -m bench.gradients --device cuda
--lengths 100` (the per-step reference is O(T^2) kernel launches; bench/gpu_check.sh runs it
with small sizes among its checks).
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import torch
import torch.nn.functional as F

from seqviz.core import device as devices
from seqviz.core import timing
from seqviz.recurrent import cells as rnn
from seqviz.recurrent import fused, gradients, tasks
from seqviz.recurrent.train import build_model

TARGET_MS = 50.0
FLOOR_NAMES = {"rnn-tanh": "nn.RNN", "rnn-relu": "nn.RNN", "lstm": "nn.LSTM", "gru": "nn.GRU",
               "tcn": "nn.Conv1d"}


def fused_floor(kind: str, length: int, hidden: int, seed: int = 0, device: str = "cpu"):
    """One forward + backward of torch's fused layer with the model's weights (a callable)."""
    model = gradients.orthogonal_recurrence(build_model(kind, hidden, length, seed=seed), 1.0, seed)
    twin = fused.fused_twin(model.to(device))                          # built on the model's device
    x, y = tasks.memory_task(1, length, seed=seed, split="test")
    x, y = rnn.one_hot(x).to(device), y.to(device)

    def forward_backward() -> None:
        twin.zero_grad(set_to_none=True)
        F.cross_entropy(twin(x).outputs[:, -1], y).backward()

    return lambda: rnn.run_sequential(forward_backward, device)


GAP_FLOOR = 1e-30  # well above float32's smallest normal number, 1.2e-38


def relative_gap(fast: np.ndarray, slow: np.ndarray) -> float:
    """Largest |fast - slow| / slow over the norms above GAP_FLOOR. Below it the entries of
    dL/dh_t cross float32's underflow (denormals are flushed to zero), and the last digits
    of a norm depend on the order of operations, in both methods alike."""
    kept = slow >= GAP_FLOOR
    return float(np.max(np.abs(fast[kept] - slow[kept]) / slow[kept])) if kept.any() else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kinds", nargs="+", default=list(gradients.GRADIENT_KINDS),
                        choices=gradients.GRADIENT_KINDS)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error(f"--device cuda, but {devices.gpu_unavailable_reason() or 'CUDA is not available'}")
    device = args.device
    loop_threads = rnn.run_sequential(torch.get_num_threads)
    where = (f"the loop thread where all three run ({loop_threads} torch thread)" if device == "cpu" else
             f"{devices.describe(torch.device(device)).name} (CUDA), launched from the calling thread")
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"hidden {args.hidden}; device {device}: {where}; {args.rounds} interleaved rounds after a "
          "warm-up, medians", flush=True)
    for kind in args.kinds:  # warm-up: first calls pay for allocation and lazy initialisation
        gradients.hidden_grad_norms(kind, 100, args.hidden, device=device)
        gradients.hidden_grad_norms_per_step(kind, 100, args.hidden, device=device)
        fused_floor(kind, 100, args.hidden, device=device)()
    for length in args.lengths:
        for kind in args.kinds:
            results = {}

            def one_pass():
                results["fast"] = gradients.hidden_grad_norms(kind, length, args.hidden, device=device)

            def per_step():
                results["slow"] = gradients.hidden_grad_norms_per_step(kind, length, args.hidden, device=device)

            t = timing.interleaved({"one": one_pass, "step": per_step,
                                    "floor": fused_floor(kind, length, args.hidden, device=device)},
                                   rounds=args.rounds, warmup=0, device=device)
            one, step, floor = (t[k].median_ms for k in ("one", "step", "floor"))
            verdict = ("" if length != 1000 or args.hidden != 64 or device != "cpu" else
                       f"  target <= {TARGET_MS:.0f} ms: {'met' if one <= TARGET_MS else 'MISSED'}")
            print(f"{device:4s} {kind:8s} length {length:5d}  one pass {one:7.1f} ms | per step {step:9.1f} ms "
                  f"(x{step / one:7.1f}) | fused {FLOOR_NAMES[kind]:9s} fwd+bwd {floor:6.1f} ms "
                  f"(one pass / fused x{one / floor:5.2f}) | largest relative gap (norms > 1e-30) "
                  f"{relative_gap(results['fast'], results['slow']):.1e}{verdict}", flush=True)


if __name__ == "__main__":
    main()
