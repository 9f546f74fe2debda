"""Training throughput on the memory task: sequences per second per model and device.

For each model, one Adam step on a batch of 64 sequences (length 20, hidden 32, the
shipped defaults) is timed on the CPU two ways: with the from-scratch cells (inside
seqviz.recurrent.cells.sequential_compute, as the app runs them) and with torch's own fused
nn.RNN / nn.LSTM / nn.GRU (the baseline; for the TCN, the same network with F.conv1d
in place of unfold + matmul). CUDA is timed too when present. Set the CPU thread
count for the whole run with --threads (torch's thread count is process-wide).

    .venv/bin/python bench/train_rnn.py [--steps 30] [--length 20] [--hidden 32]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from seqviz.recurrent import cells as rnn
from seqviz.recurrent import train as mt
from seqviz.recurrent.tasks import memory_task
from seqviz.recurrent.tcn import TCN

ROOT = Path(__file__).resolve().parent.parent


class TorchRecurrent(nn.Module):
    """torch's fused recurrent layer with the same readout, as a baseline."""

    def __init__(self, kind: str, hidden: int):
        super().__init__()
        layer = {"rnn-tanh": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
        self.layer = layer(rnn.VOCAB, hidden, batch_first=True)
        self.W_hy = nn.Linear(hidden, rnn.CLASSES)

    def forward(self, x):
        hidden, _ = self.layer(rnn.one_hot(x))                        # (B, T, H)
        return rnn.SequenceOutput(self.W_hy(hidden), hidden)


class TorchConvTCN(TCN):
    """The same TCN with torch's F.conv1d in each layer, as a baseline."""

    def forward(self, x):
        z = self.pad(rnn.one_hot(x)).transpose(1, 2)                   # (B, D, 3^depth)
        for layer in self.layers:
            z = torch.relu(F.conv1d(z, layer.weight, layer.bias, stride=layer.stride))
        return rnn.SequenceOutput(self.W_hy(z[:, :, 0]).unsqueeze(1))  # (B, 1, C)


def sequences_per_second(model: nn.Module, device: str, steps: int, length: int, batch: int
                         ) -> float:
    model = model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = [tuple(t.to(device) for t in memory_task(batch, length, seed=i))
               for i in range(steps + 3)]
    with rnn.sequential_compute(device):
        for i, (x, y) in enumerate(batches):
            if i == 3:  # three warm-up steps
                if device == "cuda":
                    torch.cuda.synchronize()
                start = time.perf_counter()
            total, _, _ = mt._losses(model, x, y)
            optimizer.zero_grad()
            total.backward()
            optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--length", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    shape = (args.steps, args.length, args.batch)
    print(f"torch {torch.__version__}; batch {args.batch}, length {args.length}, hidden "
          f"{args.hidden}, {args.steps} timed steps; CPU threads {torch.get_num_threads()}")
    results = {}
    for kind in ("rnn-tanh", "lstm", "gru", "tcn"):
        torch.manual_seed(0)
        ours = lambda: mt.build_model(kind, args.hidden, args.length)  # noqa: E731
        baseline = (lambda: TorchConvTCN(args.hidden, args.length)) if kind == "tcn" else (
            lambda: TorchRecurrent(kind, args.hidden))
        one = sequences_per_second(ours(), "cpu", *shape)
        base = sequences_per_second(baseline(), "cpu", *shape)
        line = (f"{kind:8s} CPU ours {one:8.0f} seq/s   torch built-in {base:8.0f} seq/s   "
                f"ratio ours/built-in {one / base:4.2f}x")
        if torch.cuda.is_available():
            gpu = sequences_per_second(ours(), "cuda", *shape)
            line += f"   CUDA {gpu:8.0f} seq/s (CPU/CUDA {one / gpu:4.2f}x)"
            results[kind] = (one, gpu)
        print(line, flush=True)
    if results:
        faster = [k for k, (cpu, gpu) in results.items() if cpu >= gpu]
        print(f"Auto: CPU for {', '.join(faster) or 'none'}; measured above.")
    else:
        print("No CUDA device here. Auto keeps these small sequential loops ('sequential' "
              "workload) on the CPU: each time step is a few kernels on a (64, 32) matrix, "
              "too small to fill a GPU, so kernel-launch latency would dominate.")


if __name__ == "__main__":
    main()
