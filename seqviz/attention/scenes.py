"""Sentences of a small grammar and the pictures they describe: the data of words-to-regions.

A scene places at most one object in each quadrant of a square picture. Its sentence
names every object as a phrase of five words, joined by "and", closed by a full stop:

    sentence := phrase ("and" phrase)* "."        (one to four phrases, each quadrant once)
    phrase   := "a" colour shape row column
    colour   := "red" | "green" | "blue" | "yellow"
    shape    := "circle" | "square" | "triangle"
    row      := "top" | "bottom"          column := "left" | "right"

The phrases come in any order, so only the words "top/bottom" and "left/right" say where
an object goes. The picture is the exact rendering of the scene: each quadrant is a
QUADRANT x QUADRANT patch, empty or holding one centred shape of one colour, drawn on a
dark background in colours from the Okabe-Ito palette (red is their vermillion, green
their bluish green), which stay distinct for colour-blind viewers. `parse` reads typed
text back into a scene or raises `GrammarError` with a sentence a student can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["COLOURS", "SHAPES", "ROWS", "COLUMNS", "QUADRANTS", "QUADRANT_NAMES", "QUADRANT", "SIDE",
           "MAX_OBJECTS", "MAX_TOKENS", "VOCAB", "PAD", "END", "Thing", "Scene", "GrammarError",
           "parse", "sentence", "phrase_positions", "tokens", "encode", "templates", "template_index", "render",
           "labels", "random_scenes", "EXAMPLES"]

COLOURS = ("red", "green", "blue", "yellow")
SHAPES = ("circle", "square", "triangle")
ROWS = ("top", "bottom")
COLUMNS = ("left", "right")
QUADRANTS = tuple((row, column) for row in ROWS for column in COLUMNS)   # reading order
QUADRANT_NAMES = tuple(f"{row} {column}" for row, column in QUADRANTS)
RGB = {"red": (0.835, 0.369, 0.0), "green": (0.0, 0.620, 0.451), "blue": (0.0, 0.447, 0.698),
       "yellow": (0.941, 0.894, 0.259)}
BACKGROUND = (0.13, 0.13, 0.13)
QUADRANT = 16                     # pixels per side of one quadrant
SIDE = 2 * QUADRANT               # pixels per side of the picture
MAX_OBJECTS = len(QUADRANTS)
PHRASE = 5                        # words per object phrase
MAX_TOKENS = MAX_OBJECTS * PHRASE + (MAX_OBJECTS - 1) + 1   # phrases, "and"s, the full stop
PAD, END = "<pad>", "."
VOCAB = (PAD, END, "a", "and", *COLOURS, *SHAPES, *ROWS, *COLUMNS)
_INDEX = {word: i for i, word in enumerate(VOCAB)}
EXAMPLES = (
    "a red circle top left and a blue square bottom right.",
    "a yellow triangle bottom left.",
    "a green square top right and a red triangle top left and a blue circle bottom left.",
    "a blue circle top left and a yellow circle top right and a red square bottom left "
    "and a green triangle bottom right.",
)


@dataclass(frozen=True)
class Thing:
    """One object of a scene: its colour, shape and quadrant (row, column)."""

    colour: str
    shape: str
    row: str
    column: str

    @property
    def quadrant(self) -> int:
        return QUADRANTS.index((self.row, self.column))

    @property
    def words(self) -> tuple[str, ...]:
        return ("a", self.colour, self.shape, self.row, self.column)


@dataclass(frozen=True)
class Scene:
    """The objects in the order the sentence names them."""

    things: tuple[Thing, ...]

    def __post_init__(self) -> None:
        if not 1 <= len(self.things) <= MAX_OBJECTS:
            raise GrammarError(f"a sentence names one to {MAX_OBJECTS} objects, not {len(self.things)}")
        seen: dict[int, Thing] = {}
        for thing in self.things:
            if thing.quadrant in seen:
                raise GrammarError(f"two objects in the {QUADRANT_NAMES[thing.quadrant]} quadrant "
                                   f"(a {seen[thing.quadrant].colour} {seen[thing.quadrant].shape} and "
                                   f"a {thing.colour} {thing.shape}): each quadrant holds one object")
            seen[thing.quadrant] = thing

    def in_quadrant(self, quadrant: int) -> Thing | None:
        return next((t for t in self.things if t.quadrant == quadrant), None)


class GrammarError(ValueError):
    """Text the grammar cannot read; the message says what was wrong and what would be read."""


def tokens(scene: Scene) -> list[str]:
    """The scene's sentence as words, full stop included."""
    words: list[str] = []
    for i, thing in enumerate(scene.things):
        words += (["and"] if i else []) + list(thing.words)
    return words + [END]


def phrase_positions(index: int) -> range:
    """The word positions of the `index`-th object's phrase in a sentence (each phrase but the
    first follows an "and")."""
    start = index * (PHRASE + 1)
    return range(start, start + PHRASE)


def sentence(scene: Scene) -> str:
    return " ".join(tokens(scene)[:-1]) + END


def _known_words() -> str:
    return (f"a, and; colours: {', '.join(COLOURS)}; shapes: {', '.join(SHAPES)}; "
            f"places: {' or '.join(ROWS)} followed by {' or '.join(COLUMNS)}")


def parse(text: str) -> Scene:
    """The scene a typed sentence describes (case, commas and extra spaces do not matter)."""
    words = re.findall(r"[a-z]+|[^a-z\s,.]+", text.lower())
    if not words:
        raise GrammarError(f"the sentence is empty. The model knows these words: {_known_words()}")
    unknown = list(dict.fromkeys(w for w in words if w not in _INDEX))
    if unknown:
        shown = ", ".join(repr(w[:20]) for w in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise GrammarError(f"the model does not know {shown}. It knows only these words: "
                           f"{_known_words()}")
    slots = (("a", ("a",)), ("colour", COLOURS), ("shape", SHAPES), ("row", ROWS), ("column", COLUMNS))
    things, position = [], 0
    while True:
        phrase = []
        for name, allowed in slots:
            got = words[position] if position < len(words) else None
            if got not in allowed:
                where = f"word {position + 1} is {got!r}" if got else "the sentence ends"
                raise GrammarError(f"{where} where the grammar expects {name} ({' or '.join(allowed)}). "
                                   "Each object is written 'a <colour> <shape> <top|bottom> "
                                   "<left|right>', objects joined by 'and'.")
            phrase.append(got)
            position += 1
        things.append(Thing(*phrase[1:]))
        if position == len(words):
            return Scene(tuple(things))
        if words[position] != "and":
            raise GrammarError(f"word {position + 1} is {words[position]!r} where the grammar expects "
                               "'and' before the next object, or the end of the sentence.")
        position += 1
        if len(things) == MAX_OBJECTS:
            raise GrammarError(f"a sentence names at most {MAX_OBJECTS} objects, one per quadrant")


def encode(scenes: list[Scene]) -> tuple[np.ndarray, np.ndarray]:
    """Word indices (B, MAX_TOKENS), padded with PAD, and the number of real words (B,)."""
    ids = np.full((len(scenes), MAX_TOKENS), _INDEX[PAD], dtype=np.int64)
    lengths = np.zeros(len(scenes), dtype=np.int64)
    for row, scene in enumerate(scenes):
        words = tokens(scene)
        ids[row, :len(words)] = [_INDEX[w] for w in words]
        lengths[row] = len(words)
    return ids, lengths


def _mask(shape: str) -> np.ndarray:
    """Where a shape covers a QUADRANT x QUADRANT patch: centred, 10 pixels across."""
    y, x = np.mgrid[:QUADRANT, :QUADRANT] + 0.5
    centre, half = QUADRANT / 2, 5.0
    if shape == "circle":
        return (x - centre) ** 2 + (y - centre) ** 2 <= half ** 2
    if shape == "square":
        return (abs(x - centre) <= half - 0.5) & (abs(y - centre) <= half - 0.5)
    top, bottom = centre - half, centre + half              # apex up, base at the bottom
    width = (y - top) / (bottom - top) * half
    return (y >= top) & (y <= bottom) & (abs(x - centre) <= width)


@lru_cache(maxsize=1)
def templates() -> np.ndarray:
    """Every quadrant a scene can hold, (1 + colours x shapes, QUADRANT, QUADRANT, 3): index 0
    is empty, then colour-major (red circle, red square, ...). Pixels in [0, 1]."""
    out = np.empty((1 + len(COLOURS) * len(SHAPES), QUADRANT, QUADRANT, 3), dtype=np.float32)
    out[:] = BACKGROUND
    for c, colour in enumerate(COLOURS):
        for s, shape in enumerate(SHAPES):
            out[1 + c * len(SHAPES) + s][_mask(shape)] = RGB[colour]
    out.setflags(write=False)
    return out


def template_index(thing: Thing | None) -> int:
    if thing is None:
        return 0
    return 1 + COLOURS.index(thing.colour) * len(SHAPES) + SHAPES.index(thing.shape)


def labels(scenes: list[Scene]) -> np.ndarray:
    """Each scene's template index per quadrant, (B, 4)."""
    return np.array([[template_index(s.in_quadrant(q)) for q in range(MAX_OBJECTS)] for s in scenes],
                    dtype=np.int64)


def render(quadrant_labels: np.ndarray) -> np.ndarray:
    """Pictures (B, SIDE, SIDE, 3) from template indices per quadrant (B, 4)."""
    patches = templates()[quadrant_labels]                        # (B, 4, Q, Q, 3)
    b = patches.shape[0]
    grid = patches.reshape(b, 2, 2, QUADRANT, QUADRANT, 3)        # (B, row, column, y, x, 3)
    return grid.transpose(0, 1, 3, 2, 4, 5).reshape(b, SIDE, SIDE, 3)


def random_scenes(count: int, rng: np.random.Generator, objects: int | None = None,
                  most: int = MAX_OBJECTS) -> list[Scene]:
    """`count` scenes: each names `objects` objects (or one to `most`, uniformly), in distinct
    quadrants, with colours and shapes drawn uniformly, in a random order."""
    scenes = []
    for _ in range(count):
        k = objects if objects is not None else int(rng.integers(1, most + 1))
        quadrants = rng.permutation(MAX_OBJECTS)[:k]
        scenes.append(Scene(tuple(
            Thing(COLOURS[rng.integers(len(COLOURS))], SHAPES[rng.integers(len(SHAPES))], *QUADRANTS[q])
            for q in quadrants)))
    return scenes
