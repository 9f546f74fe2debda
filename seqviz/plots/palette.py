"""One palette per meaning, colour-blind safe (Okabe and Ito 2008).

A colour means the same thing on every page: a model kind is always the same hue, a
reference (closed form, torch) always another, and every categorical list draws from
the same eight Okabe-Ito colours. Heatmaps use one scale per kind of quantity.
"""

from __future__ import annotations

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW, BLACK = OKABE_ITO
GREY = "#7f7f7f"
LIGHT_GREY = "#bbbbbb"   # reference lines: chance, bounds, guides
DARK_GREY = "#444444"    # outlines drawn on a light fill of their own (diagram boxes)
# Lines and markers drawn on the chart's background, which is light or dark with the app's theme:
# a mid grey that stays visible on both (Okabe-Ito black would vanish on the dark theme).
INK = "#8a8a8a"
TRANSPARENT = "rgba(0, 0, 0, 0)"   # an invisible fill (a box plot drawn as its points only)

# Which network: the same hue on every recurrent figure.
MODEL_COLORS = {"rnn-tanh": BLUE, "rnn-relu": SKY, "lstm": VERMILLION, "gru": GREEN, "tcn": ORANGE}

# Roles in the comparison figures: what is computed, what it is checked against.
ROLE_COLORS = {"closed": BLUE, "torch": ORANGE, "hot": VERMILLION, "other": GREY, "raw": PURPLE,
               "scaled": GREEN, "accent": SKY, "attention": VERMILLION, "convolution": BLUE}

# What a probe or a readout reads, on the hidden-state figures.
READOUT_COLORS = {"probe on hₜ": VERMILLION, "probe on cₜ": ORANGE, "output yₜ (argmax)": BLUE}

# Any list of series with no meaning of its own (layers, runs, frames): in this order.
CATEGORICAL = OKABE_ITO

# Heatmap scales, one per kind of quantity.
WEIGHTS_SCALE = "Oranges"      # probabilities in [0, 1]: attention weights
VALUES_SCALE = "Viridis"       # unsigned values: activations, norms
SIGNED_SCALE = "RdBu_r"        # signed values, centred on 0: hidden states, matrices
ERROR_SCALE = "Inferno"        # |error| maps


def categorical(index: int) -> str:
    """The index-th colour of the categorical palette (wrapping round)."""
    return CATEGORICAL[index % len(CATEGORICAL)]
