"""One small network per input/output pattern, built from the project's own RNN cell.

The RNN cell (seqviz.recurrent.cells.RNNCell: h_t = tanh(W_xh x_t + b_h + W_hh h_{t-1})) is
unrolled with an explicit loop over time that keeps every step, in the five arrangements of
Karpathy (2015): one-to-one (an MLP, no recurrence), one-to-many (a decoder that feeds back its
previous output), many-to-one (the last state read out), many-to-many aligned (a readout at
every step) and the encoder-decoder of Sutskever, Vinyals & Le (2014), whose encoder's last
state, the context, starts the decoder. Each returns its outputs, its states, and how many
recurrent steps its loops ran.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from seqviz.recurrent import cells

__all__ = ["unroll", "decode", "PatternOutput", "OneToOne", "OneToMany", "ManyToOne", "ManyToManyAligned",
           "EncoderDecoder", "NETWORKS", "PARTS"]


def unroll(cell: cells.RNNCell, x_proj: torch.Tensor, h: torch.Tensor) -> list[torch.Tensor]:
    """h_t = tanh(x_proj_t + W_hh h_{t-1}) for t = 1..T; x_proj is (B, T, H); returns T x (B, H)."""
    steps = []
    for t in range(x_proj.shape[1]):
        h = cell.recur(x_proj[:, t], h)
        steps.append(h)
    return steps


def decode(cell: cells.RNNCell, W_hy: nn.Linear, h: torch.Tensor, t_out: int,
           first_input: torch.Tensor | None = None) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """A decoder unrolled t_out steps from state h: step t reads its previous output y_{t-1}
    (y_0 = 0, a start symbol), except that `first_input`, already projected (B, H), replaces
    it at step 1 when given. Returns the states s_t and the outputs y_t, T_out x (B, H) and (B, C)."""
    states, outputs = [], []
    previous = h.new_zeros(h.shape[0], W_hy.out_features)             # y_0: (B, C)
    for t in range(t_out):
        x_proj = first_input if t == 0 and first_input is not None else cell.W_xh(previous)
        h = cell.recur(x_proj, h)                                      # (B, H)
        previous = W_hy(h)                                             # (B, C)
        states.append(h)
        outputs.append(previous)
    return states, outputs


@dataclass
class PatternOutput:
    outputs: torch.Tensor
    states: dict[str, torch.Tensor] = field(default_factory=dict)   # name -> (B, [T,] H)
    encoder_steps: int = 0
    decoder_steps: int = 0


class OneToOne(nn.Module):
    """An MLP: h = tanh(W_xh x + b_h), y = W_hy h. No time axis, no recurrence."""

    def __init__(self, d: int, H: int, C: int):
        super().__init__()
        self.W_xh, self.W_hy = nn.Linear(d, H), nn.Linear(H, C)

    def forward(self, x: torch.Tensor, t_out: int = 1) -> PatternOutput:
        h = torch.tanh(self.W_xh(x))                                   # (B, H)
        return PatternOutput(self.W_hy(h), {"h": h})                   # (B, C)


class OneToMany(nn.Module):
    """x enters at step 1; then the decoder feeds back its previous output y_{t-1}."""

    def __init__(self, d: int, H: int, C: int):
        super().__init__()
        self.W_xh = nn.Linear(d, H)                                    # the item, into step 1
        self.decoder, self.W_hy = cells.RNNCell(C, H), nn.Linear(H, C)

    def forward(self, x: torch.Tensor, t_out: int) -> PatternOutput:
        h0 = x.new_zeros(x.shape[0], self.W_hy.in_features)            # (B, H)
        states, outputs = decode(self.decoder, self.W_hy, h0, t_out, self.W_xh(x))
        return PatternOutput(torch.stack(outputs, 1), {"decoder hₜ": torch.stack(states, 1)},
                             decoder_steps=len(states))                # (B, T_out, C)


class ManyToOne(nn.Module):
    """The RNN reads all T_in steps; only its last state h_T is read out."""

    def __init__(self, d: int, H: int, C: int):
        super().__init__()
        self.encoder, self.W_hy = cells.RNNCell(d, H), nn.Linear(H, C)

    def forward(self, x: torch.Tensor, t_out: int = 1) -> PatternOutput:
        h0 = x.new_zeros(x.shape[0], self.W_hy.in_features)
        states = unroll(self.encoder, self.encoder.W_xh(x), h0)       # T_in x (B, H)
        return PatternOutput(self.W_hy(states[-1]), {"hₜ": torch.stack(states, 1)},
                             encoder_steps=len(states))                # (B, C)


class ManyToManyAligned(nn.Module):
    """The project's RNN (seqviz.recurrent.cells.RNN): y_t = W_hy h_t at every step."""

    def __init__(self, d: int, H: int, C: int):
        super().__init__()
        self.rnn = cells.RNN(H, input_size=d, classes=C)

    def forward(self, x: torch.Tensor, t_out: int = 0) -> PatternOutput:
        run = self.rnn(x)                                              # outputs (B, T_in, C)
        return PatternOutput(run.outputs, {"hₜ": run.hidden}, encoder_steps=len(run.hidden_steps))


class EncoderDecoder(nn.Module):
    """Encoder over T_in steps; its last state (the context) starts a decoder over T_out steps."""

    def __init__(self, d: int, H: int, C: int):
        super().__init__()
        self.encoder, self.decoder = cells.RNNCell(d, H), cells.RNNCell(C, H)
        self.W_hy = nn.Linear(H, C)

    def forward(self, x: torch.Tensor, t_out: int) -> PatternOutput:
        h0 = x.new_zeros(x.shape[0], self.W_hy.in_features)
        encoded = unroll(self.encoder, self.encoder.W_xh(x), h0)      # T_in x (B, H)
        context = encoded[-1]                                          # (B, H)
        states, outputs = decode(self.decoder, self.W_hy, context, t_out)
        return PatternOutput(torch.stack(outputs, 1),                  # (B, T_out, C)
                             {"encoder hₜ": torch.stack(encoded, 1), "context": context,
                              "decoder sₜ": torch.stack(states, 1)},
                             encoder_steps=len(encoded), decoder_steps=len(states))


NETWORKS = {"one-to-one": OneToOne, "one-to-many": OneToMany, "many-to-one": ManyToOne,
            "many-to-many-aligned": ManyToManyAligned, "encoder-decoder": EncoderDecoder}

# What each network is made of, for the page's "Show code": the class and the loops it runs.
PARTS = {"one-to-one": (OneToOne,), "one-to-many": (OneToMany, decode), "many-to-one": (ManyToOne, unroll),
         "many-to-many-aligned": (ManyToManyAligned, cells.RNN.__init__, cells._SingleState.forward),
         "encoder-decoder": (EncoderDecoder, unroll, decode)}
