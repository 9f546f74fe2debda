"""Recurrent cells from scratch: vanilla RNN, LSTM and GRU, built from nn.Linear only.

Vanilla RNN (Elman 1990):  h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h),  y_t = W_hy h_t + b_y.
LSTM (Hochreiter & Schmidhuber 1997, with forget gate, Gers et al. 2000): the four gates
i, f, g, o come from ONE linear layer on [x_t, h_{t-1}];  c_t = f*c_{t-1} + i*g,
h_t = o*tanh(c_t).  GRU (Cho et al. 2014), in torch's convention:
r, z = sigmoid(...), n = tanh(W_in x + b_in + r*(W_hn h + b_hn)), h_t = (1-z)*n + z*h_{t-1}.

Each cell equals torch's nn.RNNCell / nn.LSTMCell / nn.GRUCell once the weights are
copied with `from_torch` (tests/unit/test_rnn.py). The sequence models loop over time
explicitly and return every step: outputs y_t, hidden states h_t, and for the LSTM the
cell states c_t and the gates.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from seqviz.core import jobs

__all__ = ["sequential_compute", "run_sequential", "RNNCell", "LSTMCell", "GRUCell", "SequenceOutput", "RNN",
           "LSTM", "GRU", "RECURRENT_KINDS", "VOCAB", "CLASSES", "one_hot"]

T = TypeVar("T")
RECURRENT_KINDS = ("rnn-tanh", "rnn-relu", "lstm", "gru")
VOCAB = 5     # input symbols: 0 blank, 1 2 3 tokens, 4 request
CLASSES = 4   # output classes: 0 "nothing asked yet", 1 2 3 the token


@contextlib.contextmanager
def sequential_compute(device: str | torch.device = "cpu") -> Iterator[None]:
    """Run many tiny per-step ops with denormal floats flushed to zero on this thread.

    Gradients that fade below 1e-38 turn into denormal floats, which the CPU handles
    at a fraction of its normal speed; flushing them to zero changes no figure on
    screen (they are far below anything plotted) and keeps long sequences fast. The
    flag lives in the calling OS thread's floating-point control register, so each
    session's script thread sets and clears its own. The torch thread count is not
    touched here: it is process-wide and set once, at import (seqviz.ui).
    """
    if torch.device(device).type != "cpu":
        yield
        return
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


_loop_pool: ThreadPoolExecutor | None = None
_loop_idents: frozenset[int] = frozenset()
_loop_lock = threading.Lock()


def _single_threaded(started: threading.Barrier) -> int:
    torch.get_num_threads()       # torch's first call on a thread reads the process default: done now
    torch.set_num_threads(1)      # then this thread keeps its own count (torch's OpenMP backend)
    torch.set_flush_denormal(True)
    started.wait(60)              # one task per thread: every worker is started
    return threading.get_ident()


def _loop_threads() -> ThreadPoolExecutor:
    global _loop_pool, _loop_idents
    with _loop_lock:
        if _loop_pool is None:
            default = torch.get_num_threads()
            pool = ThreadPoolExecutor(max_workers=default, thread_name_prefix="seqviz-loop")
            started = threading.Barrier(default)
            _loop_idents = frozenset(pool.map(lambda _: _single_threaded(started), range(default)))
            torch.set_num_threads(default)  # threads started from now on take the default again
            _loop_pool = pool
    return _loop_pool


def run_sequential(fn: Callable[[], T], device: str | torch.device = "cpu") -> T:
    """Run `fn()` on a thread kept for long per-step loops on the CPU; return its result.

    A loop of thousands of tiny operations gains nothing from torch's intra-op threads
    and, on a busy machine, loses a lot to them: after any operation large enough to be
    split (a projection of the whole sequence, say), OpenMP's worker threads spin waiting
    for more work and take the cores the loop needs; measured here, a 1000-step backward
    sweep ran 5x slower with 2 threads than with 1 on a loaded 2-core CPU. So these loops
    run on a pool of threads, as many as torch's default thread count, each set once, at
    its start, to one torch thread (torch keeps a count per thread once it is set; the
    default that threads started later take is restored at once). Nothing else in the
    process changes, sessions still run side by side, one core each. The pool's threads
    also flush denormals to zero (see `sequential_compute`). `fn` must not use
    streamlit. On a GPU, and when already on a pool thread, `fn` runs in the calling thread.
    A job's stop check (seqviz.core.jobs.interruptible) is carried over to the pool's thread.
    """
    if torch.device(device).type != "cpu":
        return fn()
    pool = _loop_threads()
    if threading.get_ident() in _loop_idents:
        return fn()
    return pool.submit(jobs.carried(fn)).result()   # a job's stop check goes with it


def one_hot(x: torch.Tensor, vocab: int = VOCAB) -> torch.Tensor:
    """Token ids (B, T) -> one-hot floats (B, T, vocab); float input passes through."""
    return F.one_hot(x, vocab).float() if not x.is_floating_point() else x


class RNNCell(nn.Module):
    """h_t = act(W_xh x_t + b_h + W_hh h_{t-1}); act is tanh or relu."""

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh"):
        super().__init__()
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be tanh or relu, got {nonlinearity!r}")
        self.hidden_size = hidden_size
        self.act = torch.tanh if nonlinearity == "tanh" else torch.relu
        self.W_xh = nn.Linear(input_size, hidden_size)               # its bias is b_h
        self.W_hh = nn.Linear(hidden_size, hidden_size, bias=False)

    def recur(self, x_proj: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """One step given the input already projected, x_proj = W_xh x_t + b_h."""
        return self.act(torch.addmm(x_proj, h, self.W_hh.weight.t()))   # (B, H)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return self.recur(self.W_xh(x), h)

    @torch.no_grad()
    def from_torch(self, cell: nn.RNNCell) -> RNNCell:
        self.W_xh.weight.copy_(cell.weight_ih)
        self.W_xh.bias.copy_(cell.bias_ih + cell.bias_hh)
        self.W_hh.weight.copy_(cell.weight_hh)
        return self


class LSTMCell(nn.Module):
    """All four gates from one linear layer on [x_t, h_{t-1}] (torch's order i, f, g, o)."""

    GATES = ("input", "forget", "candidate", "output")

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.W_gates = nn.Linear(input_size + hidden_size, 4 * hidden_size)

    def recur(self, x_proj: torch.Tensor, h: torch.Tensor, c: torch.Tensor,
              W_h_t: torch.Tensor | None = None
              ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, ...]]:
        """One step given x_proj = W_x x_t + b (the input's share of the gate layer).

        `W_h_t` is the hidden share of the gate weights, transposed (H, 4H); a sequence
        model passes it once instead of slicing it at every step.
        Returns h_t, c_t and the activated gates (i, f, g, o), each (B, H)."""
        if W_h_t is None:
            W_h_t = self.W_gates.weight[:, self.input_size:].t()       # (H, 4H)
        pre = torch.addmm(x_proj, h, W_h_t)                            # (B, 4H)
        H = self.hidden_size
        gates = torch.sigmoid(pre)                                     # i, f, o from here
        i, f, o = gates[:, :H], gates[:, H:2 * H], gates[:, 3 * H:]
        g = torch.tanh(pre[:, 2 * H:3 * H])
        c = f * c + i * g
        h = o * torch.tanh(c)
        return h, c, (i, f, g, o)

    def project_input(self, x: torch.Tensor) -> torch.Tensor:
        """W_x x + b for a step (B, D) or a whole sequence (B, T, D) -> (..., 4H)."""
        return F.linear(x, self.W_gates.weight[:, :self.input_size], self.W_gates.bias)

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
                ) -> tuple[torch.Tensor, torch.Tensor]:
        h, c, _ = self.recur(self.project_input(x), *state)
        return h, c

    @torch.no_grad()
    def from_torch(self, cell: nn.LSTMCell) -> LSTMCell:
        self.W_gates.weight.copy_(torch.cat([cell.weight_ih, cell.weight_hh], dim=1))
        self.W_gates.bias.copy_(cell.bias_ih + cell.bias_hh)
        return self


class GRUCell(nn.Module):
    """Reset r, update z and candidate n; W_xh and W_hh each give all three at once."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.hidden_size = hidden_size
        self.W_xh = nn.Linear(input_size, 3 * hidden_size)   # rows: r, z, n
        self.W_hh = nn.Linear(hidden_size, 3 * hidden_size)  # b_hn stays inside r * (.)

    def recur(self, x_proj: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        x_r, x_z, x_n = x_proj.chunk(3, dim=1)                         # 3 x (B, H)
        h_r, h_z, h_n = self.W_hh(h).chunk(3, dim=1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)
        return (1 - z) * n + z * h

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return self.recur(self.W_xh(x), h)

    @torch.no_grad()
    def from_torch(self, cell: nn.GRUCell) -> GRUCell:
        self.W_xh.weight.copy_(cell.weight_ih)
        self.W_xh.bias.copy_(cell.bias_ih)
        self.W_hh.weight.copy_(cell.weight_hh)
        self.W_hh.bias.copy_(cell.bias_hh)
        return self


@dataclass
class SequenceOutput:
    """What a sequence model returns: every step, not just the last."""

    outputs: torch.Tensor                       # (B, T, C) logits y_t
    hidden: torch.Tensor | None = None          # (B, T, H) h_t
    cell: torch.Tensor | None = None            # (B, T, H) c_t (LSTM)
    gates: dict[str, torch.Tensor] = field(default_factory=dict)  # name -> (B, T, H)
    hidden_steps: list[torch.Tensor] = field(default_factory=list, repr=False)  # T x (B, H)


class _Recurrent(nn.Module):
    """Shared parts: input size VOCAB, readout y_t = W_hy h_t + b_y over CLASSES."""

    def __init__(self, hidden_size: int, input_size: int = VOCAB, classes: int = CLASSES):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.W_hy = nn.Linear(hidden_size, classes)  # its bias is b_y

    def recurrent_matrix(self) -> torch.Tensor:
        """The (H, H) matrix that carries h_{t-1} into the candidate state."""
        raise NotImplementedError


class _SingleState(_Recurrent):
    """Models whose only state is h_t (vanilla RNN, GRU): the cell has W_xh and recur()."""

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> SequenceOutput:
        x = one_hot(x)                                                  # (B, T, D)
        x_proj = self.cell.W_xh(x)                                      # (B, T, H or 3H)
        h = h0 if h0 is not None else x.new_zeros(x.shape[0], self.hidden_size)
        steps = []
        for t in range(x.shape[1]):
            h = self.cell.recur(x_proj[:, t], h)                        # (B, H)
            steps.append(h)
        hidden = torch.stack(steps, dim=1)                              # (B, T, H)
        return SequenceOutput(self.W_hy(hidden), hidden, hidden_steps=steps)


class RNN(_SingleState):
    """Vanilla RNN over a sequence; `nonlinearity` is tanh or relu."""

    def __init__(self, hidden_size: int, nonlinearity: str = "tanh", input_size: int = VOCAB,
                 classes: int = CLASSES):
        super().__init__(hidden_size, input_size, classes)
        self.nonlinearity = nonlinearity
        self.cell = RNNCell(input_size, hidden_size, nonlinearity)

    def recurrent_matrix(self) -> torch.Tensor:
        return self.cell.W_hh.weight


class LSTM(_Recurrent):
    """LSTM over a sequence; returns h_t, c_t and the four gates at every step."""

    def __init__(self, hidden_size: int, input_size: int = VOCAB, classes: int = CLASSES):
        super().__init__(hidden_size, input_size, classes)
        self.cell = LSTMCell(input_size, hidden_size)

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> SequenceOutput:
        x = one_hot(x)                                                  # (B, T, D)
        x_proj = self.cell.project_input(x)                             # (B, T, 4H)
        zeros = x.new_zeros(x.shape[0], self.hidden_size)
        h, c = state if state is not None else (zeros, zeros)
        W_h_t = self.cell.W_gates.weight[:, self.cell.input_size:].t()  # (H, 4H)
        hs, cs, gates = [], [], []
        for t in range(x.shape[1]):
            h, c, g = self.cell.recur(x_proj[:, t], h, c, W_h_t)
            hs.append(h)
            cs.append(c)
            gates.append(g)
        hidden = torch.stack(hs, dim=1)                                 # (B, T, H)
        per_gate = {name: torch.stack([g[k] for g in gates], dim=1)     # name -> (B, T, H)
                    for k, name in enumerate(LSTMCell.GATES)}
        return SequenceOutput(self.W_hy(hidden), hidden, torch.stack(cs, dim=1), per_gate,
                              hidden_steps=hs)

    def recurrent_matrix(self) -> torch.Tensor:
        H = self.hidden_size
        return self.cell.W_gates.weight[2 * H:3 * H, self.cell.input_size:]  # candidate g block


class GRU(_SingleState):
    """GRU over a sequence; returns h_t at every step."""

    def __init__(self, hidden_size: int, input_size: int = VOCAB, classes: int = CLASSES):
        super().__init__(hidden_size, input_size, classes)
        self.cell = GRUCell(input_size, hidden_size)

    def recurrent_matrix(self) -> torch.Tensor:
        H = self.hidden_size
        return self.cell.W_hh.weight[2 * H:]                            # candidate n block
