"""Training throughput on the memory task: train_memory_model against torch's fused modules.

For each model kind, `seqviz.recurrent.train.train_memory_model` (the shipped settings:
batch 64, length 20, hidden 32, Adam, gradient clipping, a validation pass on 512
sequences every 25 steps, NaN guard, progress history) is timed for --steps steps
against the baseline: a bare loop training torch's own nn.RNN / nn.LSTM / nn.GRU (for
the TCN, nn.Conv1d layers) with a linear readout, on the same batches with the same
loss, Adam and clipping, and nothing else. Both start from weights drawn from a seeded
generator and run on the thread seqviz keeps for such loops (one torch thread,
cells.run_sequential). Also timed: train_memory_model with a progress callback, as the
Memory tasks page calls it (then each step is handed to that thread and back, so the
callback runs in the caller's thread). Timed in interleaved rounds after a warm-up
(seqviz.core.timing.interleaved), medians; sequences per second = steps x batch / time.
Target: ours / fused >= 0.9 for every kind. CUDA is timed too when present (--devices
chooses; on CUDA train_memory_model runs under bf16 autocast, the bare loop in fp32).

    python -m bench.train_rnn [--steps 100] [--rounds 5] [--kinds lstm gru] [--devices cpu cuda]

On a GPU machine, from the repository root: `PYTHONPATH=. python3 -m bench.train_rnn --devices cuda`
(bench/gpu_check.sh runs it with small sizes among its checks).
"""

from __future__ import annotations

import argparse
import os

import torch
import torch.nn.functional as F
from torch import nn

from seqviz.core import rng, timing
from seqviz.recurrent import cells as rnn
from seqviz.recurrent import tasks
from seqviz.recurrent import train as mt
from seqviz.recurrent.tcn import KERNEL, tcn_depth

TARGET = 0.9


class TorchRecurrent(nn.Module):
    """torch's fused recurrent layer (both biases trained) and a linear readout."""

    def __init__(self, kind: str, hidden: int):
        super().__init__()
        layer = {"lstm": nn.LSTM, "gru": nn.GRU}.get(kind, nn.RNN)
        options = {"nonlinearity": kind.split("-")[1]} if kind.startswith("rnn") else {}
        self.layer = layer(rnn.VOCAB, hidden, batch_first=True, **options)
        self.W_hy = nn.Linear(hidden, rnn.CLASSES)

    def forward(self, x):
        hidden, _ = self.layer(rnn.one_hot(x))                          # (B, T, H)
        return rnn.SequenceOutput(self.W_hy(hidden), hidden)


class TorchConvTCN(nn.Module):
    """The stride-3 TCN made of torch's nn.Conv1d layers, and a linear readout."""

    def __init__(self, hidden: int, length: int):
        super().__init__()
        depth = tcn_depth(length)
        self.padded_length = KERNEL ** depth
        sizes = [rnn.VOCAB] + [hidden] * depth
        self.layers = nn.ModuleList(nn.Conv1d(a, b, KERNEL, KERNEL) for a, b in zip(sizes, sizes[1:]))
        self.W_hy = nn.Linear(hidden, rnn.CLASSES)

    def forward(self, x):
        x = rnn.one_hot(x)
        z = F.pad(x, (0, 0, 0, self.padded_length - x.shape[1])).transpose(1, 2)  # (B, D, 3^depth)
        for layer in self.layers:
            z = torch.relu(layer(z))
        return rnn.SequenceOutput(self.W_hy(z[:, :, 0]).unsqueeze(1))   # (B, 1, C)


def torch_model(kind: str, config: mt.MemoryConfig, device: str) -> nn.Module:
    with torch.device("meta"):
        model = (TorchConvTCN(config.hidden, config.length) if kind == "tcn"
                 else TorchRecurrent(kind, config.hidden))
    model = rng.init_parameters(model.to_empty(device="cpu"), rng.torch_generator(config.seed))
    return model.to(device).train()


def fused_training(config: mt.MemoryConfig, device: str):
    """The baseline: torch's modules trained for config.steps steps, the bare loop."""
    def run() -> None:
        model = torch_model(config.kind, config, device)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        for i in range(config.steps):
            x, y = (t.to(device) for t in tasks.memory_task(
                config.batch, config.length, seed=config.seed * 100_003 + i + 1, split="train"))
            total, _, _ = mt._losses(model, x, y)
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            nn.utils.clip_grad_norm_(model.parameters(), config.clip)
            optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()

    return lambda: rnn.run_sequential(run, device)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="steps per timed run (eval every 25)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kinds", nargs="+", default=list(mt.MODEL_KINDS), choices=mt.MODEL_KINDS)
    parser.add_argument("--devices", nargs="+", choices=["cpu", "cuda"], default=None,
                        help="default: cpu, and cuda when present")
    args = parser.parse_args(argv)
    devices = args.devices or ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    if "cuda" in devices and not torch.cuda.is_available():
        parser.error("--devices cuda, but CUDA is not available to this torch")
    shipped = mt.MemoryConfig()
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"batch {shipped.batch}, length {shipped.length}, hidden {shipped.hidden}, {args.steps} steps a run, "
          f"{args.rounds} interleaved rounds after a warm-up, medians; CPU work on the loop thread "
          f"({rnn.run_sequential(torch.get_num_threads)} torch thread)", flush=True)
    for device in devices:
        for kind in args.kinds:
            config = mt.MemoryConfig(kind=kind, steps=args.steps)
            t = timing.interleaved({"ours": lambda: mt.train_memory_model(config, device),
                                    "fused": fused_training(config, device),
                                    "callback": lambda: mt.train_memory_model(config, device,
                                                                              on_progress=lambda p: None)},
                                   rounds=args.rounds, warmup=1, device=device)
            ours, base, called = (args.steps * config.batch / t[k].median for k in ("ours", "fused", "callback"))
            ratio = ours / base
            print(f"{device:4s} {kind:8s} train_memory_model {ours:7.0f} seq/s | torch fused modules "
                  f"{base:7.0f} seq/s | ours / fused {ratio:4.2f} (target >= {TARGET}: "
                  f"{'met' if ratio >= TARGET else 'MISSED'}) | with a progress callback "
                  f"{called:7.0f} seq/s, {called / base:4.2f}", flush=True)


if __name__ == "__main__":
    main()
