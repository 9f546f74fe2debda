"""The unrolled diagram of a sequence-model pattern (one-to-one ... encoder-decoder), in time.

Inputs sit at the bottom, states in the middle, outputs on top, one column per time step
(Karpathy 2015's picture of the five patterns). Arrows: x_t -> h_t (input), h_{t-1} -> h_t
(recurrent), h_t -> y_t (output), y_{t-1} -> h_t (a decoder feeding back what it wrote), and
for the encoder-decoder the context, the encoder's last state, passed to the decoder's first.
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from seqviz.plots.common import base_layout
from seqviz.plots.palette import BLACK, BLUE, DARK_GREY, GREEN, ORANGE, PURPLE, SKY, VERMILLION
from seqviz.recurrent import architectures

ROWS = {"input": 0, "state": 1, "decoder": 1, "output": 2}
ROW_NAMES = ("inputs", "states", "outputs")
FILLS = {"input": SKY, "state": BLUE, "decoder": GREEN, "output": ORANGE}
TEXT_COLORS = {"input": BLACK, "state": "white", "decoder": "white", "output": BLACK}
BOX_NAMES = {"input": "inputs", "state": "hidden states", "decoder": "decoder states", "output": "outputs"}
ARROW_COLORS = {"input": DARK_GREY, "recurrent": BLUE, "output": DARK_GREY, "feedback": PURPLE,
                "context": VERMILLION}
ARROW_MEANINGS = {"input": "an input read", "recurrent": "the state carried to the next step",
                  "output": "a state read out", "feedback": "the previous output fed back in",
                  "context": "the context (the encoder's last state) starting the decoder"}
ARROW_COLOR_NAMES = {"input": "grey", "recurrent": "blue", "output": "grey", "feedback": "pink",
                     "context": "vermilion"}
HALF_WIDTH, HALF_HEIGHT = 0.32, 0.22   # a box, in columns and rows
MIN_COLUMNS = 8                        # fewer steps are centred, not stretched
FONT_SIZE = 15


@dataclass(frozen=True)
class Box:
    kind: str     # input, state, decoder, output
    label: str    # HTML: x<sub>1</sub>
    column: int

    @property
    def row(self) -> int:
        return ROWS[self.kind]


@dataclass(frozen=True)
class Arrow:
    kind: str     # input, recurrent, output, feedback, context
    start: Box
    end: Box


def _label(letter: str, step: int | None) -> str:
    return letter if step is None else f"{letter}<sub>{step}</sub>"


def unrolled_layout(pattern_key: str, t_in: int, t_out: int) -> tuple[list[Box], list[Arrow]]:
    """The boxes and arrows of a pattern unrolled over T_in input and T_out output steps
    (lengths a pattern does not use are ignored: architectures.lengths)."""
    pattern = architectures.pattern(pattern_key)
    T_in, T_out = architectures.lengths(pattern_key, t_in, t_out)
    boxes: list[Box] = []
    arrows: list[Arrow] = []

    def chain(kind: str, letter: str, first_column: int, steps: int, numbered: bool) -> list[Box]:
        made = [Box(kind, _label(letter, t + 1 if numbered else None), first_column + t) for t in range(steps)]
        boxes.extend(made)
        arrows.extend(Arrow("recurrent", a, b) for a, b in zip(made, made[1:]))
        return made

    def outputs(states: list[Box], letter: str, numbered: bool, feedback: bool) -> list[Box]:
        made = [Box("output", _label(letter, t + 1 if numbered else None), s.column) for t, s in enumerate(states)]
        boxes.extend(made)
        arrows.extend(Arrow("output", s, y) for s, y in zip(states, made))
        if feedback:
            arrows.extend(Arrow("feedback", y, s) for y, s in zip(made, states[1:]))
        return made

    if pattern.key == "encoder-decoder":
        inputs = [Box("input", _label("x", t + 1), t) for t in range(T_in)]
        boxes.extend(inputs)
        encoder = chain("state", "h", 0, T_in, True)
        arrows.extend(Arrow("input", x, h) for x, h in zip(inputs, encoder))
        decoder = chain("decoder", "s", T_in, T_out, True)
        arrows.append(Arrow("context", encoder[-1], decoder[0]))
        outputs(decoder, "y", True, feedback=True)
        return boxes, arrows
    numbered_in, numbered_out = pattern.input_sequence, pattern.output_sequence
    states = chain("state", "h", 0, max(T_in, T_out), pattern.input_sequence or pattern.output_sequence)
    inputs = [Box("input", _label("x", t + 1 if numbered_in else None), t) for t in range(T_in)]
    boxes.extend(inputs)
    arrows.extend(Arrow("input", x, h) for x, h in zip(inputs, states))
    read = states if pattern.output_sequence else states[-1:]
    outputs(read, "y", numbered_out, feedback=pattern.key == "one-to-many")
    return boxes, arrows


def arrow_key(pattern_key: str, t_in: int, t_out: int) -> str:
    """A sentence naming the colour of each kind of arrow the diagram draws."""
    kinds = {a.kind for a in unrolled_layout(pattern_key, t_in, t_out)[1]}
    by_color: dict[str, list[str]] = {}
    for kind in ARROW_MEANINGS:          # input, recurrent, output, feedback, context
        if kind in kinds:
            by_color.setdefault(ARROW_COLOR_NAMES[kind], []).append(ARROW_MEANINGS[kind])
    return "Arrows: " + "; ".join(f"{color}, {' or '.join(m)}" for color, m in by_color.items()) + "."


def _ends(arrow: Arrow) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1): from the start box's edge to the end box's edge."""
    a, b = arrow.start, arrow.end
    if a.row == b.row:                                   # along time
        return a.column + HALF_WIDTH, a.row, b.column - HALF_WIDTH, b.row
    if a.column == b.column:                             # up one row
        return a.column, a.row + HALF_HEIGHT, b.column, b.row - HALF_HEIGHT
    return a.column + HALF_WIDTH, a.row - HALF_HEIGHT, b.column - HALF_WIDTH, b.row + HALF_HEIGHT  # fed back


def unrolled_diagram(pattern_key: str, t_in: int, t_out: int) -> go.Figure:
    """The pattern unrolled in time: a box per input, state and output, an arrow per dependency."""
    pattern = architectures.pattern(pattern_key)
    T_in, T_out = architectures.lengths(pattern_key, t_in, t_out)
    boxes, arrows = unrolled_layout(pattern_key, t_in, t_out)
    columns = max(b.column for b in boxes) + 1
    pad = max(0, MIN_COLUMNS - columns) / 2
    steps = sum(b.kind in ("state", "decoder") for b in boxes) if pattern.key != "one-to-one" else 0
    title = (f"{pattern.name}: {T_in} input{'s' * (T_in > 1)} → {T_out} output{'s' * (T_out > 1)}, "
             + (f"{steps} recurrent steps" if steps else "no recurrence"))
    layout = base_layout(title, height=360)
    layout.update(
        font=dict(size=FONT_SIZE), showlegend=False, plot_bgcolor="white", margin=dict(l=110, r=20, t=60, b=20),
        xaxis=dict(range=[-0.6 - pad, columns - 0.4 + pad], visible=False, fixedrange=True),
        yaxis=dict(range=[-0.45, 2.8], tickvals=[0, 1, 2], ticktext=list(ROW_NAMES), showgrid=False,
                   zeroline=False, fixedrange=True, tickfont=dict(size=FONT_SIZE)),
        shapes=[dict(type="rect", x0=b.column - HALF_WIDTH, x1=b.column + HALF_WIDTH, y0=b.row - HALF_HEIGHT,
                     y1=b.row + HALF_HEIGHT, fillcolor=FILLS[b.kind], line=dict(color=DARK_GREY, width=1),
                     layer="below") for b in boxes],
        annotations=[dict(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", text="",
                          showarrow=True, arrowhead=2, arrowsize=1.1, arrowwidth=2.2,
                          arrowcolor=ARROW_COLORS[a.kind]) for a in arrows for x0, y0, x1, y1 in [_ends(a)]],
    )
    if pattern.key == "encoder-decoder":
        layout["annotations"] += [
            dict(x=(T_in - 1) / 2, y=2.6, text="<b>encoder</b> reads", showarrow=False, xref="x", yref="y"),
            dict(x=T_in + (T_out - 1) / 2, y=2.6, text="<b>decoder</b> writes", showarrow=False, xref="x",
                 yref="y"),
            dict(x=T_in - 0.5, y=0.62, text="context", showarrow=False, xref="x", yref="y",
                 font=dict(color=VERMILLION, size=FONT_SIZE - 1)),
        ]
    fig = go.Figure(layout=layout)
    for kind in FILLS:
        chosen = [b for b in boxes if b.kind == kind]
        if chosen:
            fig.add_trace(go.Scatter(x=[b.column for b in chosen], y=[b.row for b in chosen], mode="text",
                                     text=[b.label for b in chosen], name=BOX_NAMES[kind], hoverinfo="name",
                                     textfont=dict(size=FONT_SIZE + 3, color=TEXT_COLORS[kind])))
    return fig

