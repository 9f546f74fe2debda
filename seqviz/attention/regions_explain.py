"""What the words-to-regions page shows of one sentence: the drawing, what each quadrant holds,
where each quadrant's attention goes, and the one-word changes a student can make."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from seqviz.attention import scenes
from seqviz.attention.regions_experiment import batch, phrase_spans, predict_labels
from seqviz.attention.words_to_regions import WordsToRegions

__all__ = ["Result", "draw", "describe", "QuadrantLook", "looks", "changeable", "change_word"]

CATEGORIES = {"colour": scenes.COLOURS, "shape": scenes.SHAPES, "row": scenes.ROWS, "column": scenes.COLUMNS}


@dataclass(frozen=True)
class Result:
    """One model's drawing of one scene."""

    picture: np.ndarray            # (SIDE, SIDE, 3) in [0, 1]
    drawn: tuple[int, ...]         # template index nearest to each drawn quadrant
    asked: tuple[int, ...]         # template index the sentence asks for, per quadrant
    weights: np.ndarray | None     # (4, words) quadrant x word attention, None without attention
    words: tuple[str, ...]
    errors: tuple[float, ...]      # mean squared error of each drawn quadrant against the one asked for

    @property
    def right(self) -> tuple[bool, ...]:
        return tuple(d == a for d, a in zip(self.drawn, self.asked))


@torch.no_grad()
def draw(model: WordsToRegions, scene: scenes.Scene) -> Result:
    data = batch([scene])
    drawing = model(data.ids, data.lengths)
    words = tuple(scenes.tokens(scene))
    weights = None if drawing.attention is None else drawing.attention[0, :, :len(words)].numpy()
    patches = torch.sigmoid(drawing.logits)
    errors = ((patches - data.targets) ** 2).mean((-1, -2, -3))[0]
    return Result(drawing.pictures[0].numpy(), tuple(predict_labels(patches)[0].tolist()),
                  tuple(data.labels[0].tolist()), weights, words, tuple(errors.tolist()))


def describe(index: int) -> str:
    """A template index in words: "empty" or "<colour> <shape>"."""
    if index == 0:
        return "empty"
    colour, shape = divmod(index - 1, len(scenes.SHAPES))
    return f"{scenes.COLOURS[colour]} {scenes.SHAPES[shape]}"


@dataclass(frozen=True)
class QuadrantLook:
    """Where one quadrant's attention goes."""

    quadrant: str
    holds: str                     # what the sentence puts there
    own_words: float | None        # weight on the five words of its own object (None: empty quadrant)
    top_word: str                  # the most-read word, with its position
    top_weight: float


def looks(result: Result, scene: scenes.Scene) -> list[QuadrantLook]:
    spans = phrase_spans(scene)
    out = []
    for q, name in enumerate(scenes.QUADRANT_NAMES):
        w = result.weights[q]
        top = int(w.argmax())
        own = float(w[spans[q].start:spans[q].stop].sum()) if q in spans else None
        out.append(QuadrantLook(name, describe(result.asked[q]), own, f"{result.words[top]} (word {top + 1})",
                                float(w[top])))
    return out


def changeable(scene: scenes.Scene) -> list[tuple[int, str, str]]:
    """(position, word, category) of every word that can be swapped for another of its kind."""
    out = []
    for i, thing in enumerate(scene.things):
        for offset, category in enumerate(CATEGORIES, start=1):
            out.append((scenes.phrase_positions(i)[offset], thing.words[offset], category))
    return out


def change_word(scene: scenes.Scene, position: int, new_word: str) -> scenes.Scene:
    """The scene with the word at `position` replaced; GrammarError when two objects would share
    a quadrant."""
    words = scenes.tokens(scene)
    words[position] = new_word
    return scenes.parse(" ".join(words))
