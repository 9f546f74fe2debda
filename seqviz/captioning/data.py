"""A captioned video dataset: coloured shapes that move, turn, grow, shrink, appear, disappear
or bounce, one to three events a clip, captions that name the events in order.

Every clip is drawn from a seed and its split (train, validation, test draw from disjoint
random streams of one seed, so the test set is never seen in training). A clip's events
happen one after another, each to its own shape; the caption names them in that order
from a small grammar ("the red circle moves left then the blue square appears"). Two
kinds of clip are built on purpose:

- *late*: the decisive event happens in the last quarter of the clip, so any caption
  written before then is wrong or has to be revised (the live captioner's problem);
- *order pairs*: two clips with exactly the same frames in another order (a shape that
  moves left, and the same frames backwards: it moves right; grows against shrinks,
  appears against disappears). A captioner that looks at each frame on its own, without
  their order, cannot tell the two apart.

Frames are drawn with OpenCV, uint8 (T, H, W, 3).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

__all__ = ["SHAPES", "COLOURS", "ACTIONS", "REVERSED", "SPLITS", "Event", "Clip", "caption_of",
           "SUBJECTS", "vocabulary", "encode", "decode", "render", "frame_labels", "make_clips", "iter_clips",
           "make_order_pair",           "parse"]

SHAPES = ("circle", "square", "triangle")
COLOURS = {"red": (230, 60, 60), "green": (60, 200, 90), "blue": (70, 110, 240), "yellow": (240, 210, 60)}
ACTIONS = ("moves left", "moves right", "moves up", "moves down", "turns", "grows", "shrinks",
           "appears", "disappears", "bounces")
REVERSED = {"moves left": "moves right", "moves right": "moves left", "moves up": "moves down",
            "moves down": "moves up", "grows": "shrinks", "shrinks": "grows", "appears": "disappears",
            "disappears": "appears"}       # what the same frames played backwards show
SUBJECTS = tuple((colour, shape) for colour in COLOURS for shape in SHAPES)
SPLITS = {"train": 0, "validation": 1, "test": 2}
BACKGROUND = (24, 24, 32)
SPECIAL = ("<pad>", "<bos>", "<eos>")


@dataclass(frozen=True)
class Event:
    """One event: which shape does what, from frame `start` to frame `end` (inclusive)."""

    colour: str
    shape: str
    action: str
    start: int
    end: int

    @property
    def words(self) -> str:
        return f"the {self.colour} {self.shape} {self.action}"


@dataclass(frozen=True, eq=False)
class Clip:
    """A captioned clip. `late`: its decisive event starts in the last quarter; `pair`: the id
    shared with its order twin (same frames, another order), or None."""

    frames: np.ndarray          # uint8 (T, H, W, 3)
    caption: str
    events: tuple[Event, ...]
    late: bool = False
    pair: int | None = None
    states: tuple = field(default=(), repr=False)     # the shapes at each frame (see frame_labels)


def caption_of(events: tuple[Event, ...]) -> str:
    """The grammar: the events' clauses in time order, joined by "then"."""
    return " then ".join(event.words for event in sorted(events, key=lambda e: e.start))


def vocabulary() -> tuple[str, ...]:
    """Every word a caption can hold, after the special tokens <pad>, <bos>, <eos>."""
    words = {"the", "then", *SHAPES, *COLOURS}
    for action in ACTIONS:
        words.update(action.split())
    return SPECIAL + tuple(sorted(words))


def encode(caption: str) -> list[int]:
    """Word ids of a caption, between <bos> and <eos>. Raises ValueError for an unknown word."""
    index = {word: i for i, word in enumerate(vocabulary())}
    unknown = [word for word in caption.split() if word not in index]
    if unknown:
        raise ValueError(f"unknown word(s) {', '.join(map(repr, unknown))}; the captions use only: "
                         f"{', '.join(vocabulary()[len(SPECIAL):])}")
    return [index["<bos>"], *(index[word] for word in caption.split()), index["<eos>"]]


def decode(ids: list[int]) -> str:
    """The caption of word ids (stops at <eos>; skips <pad> and <bos>)."""
    words = vocabulary()
    out = []
    for i in ids:
        word = words[int(i)]
        if word == "<eos>":
            break
        if word not in SPECIAL:
            out.append(word)
    return " ".join(out)


def parse(caption: str) -> tuple[tuple[str, str, str], ...]:
    """(colour, shape, action) of each clause of a caption in the grammar; ValueError if it is not."""
    clauses = []
    for clause in caption.strip().split(" then "):
        words = clause.split()
        if len(words) < 3 or words[0] != "the" or words[1] not in COLOURS or words[2] not in SHAPES:
            raise ValueError(f"{clause!r} is not 'the <colour> <shape> <action>'")
        action = " ".join(words[3:])
        if action not in ACTIONS:
            raise ValueError(f"{action!r} is not one of the actions: {', '.join(ACTIONS)}")
        clauses.append((words[1], words[2], action))
    return tuple(clauses)


@dataclass
class _Shape:
    colour: str
    shape: str
    x: float
    y: float
    size: float
    angle: float = 0.0
    visible: bool = True


def _draw(image: np.ndarray, s: _Shape) -> None:
    if not s.visible or s.size < 1:
        return
    colour = COLOURS[s.colour]
    x, y, r = s.x, s.y, s.size
    if s.shape == "circle":
        cv2.circle(image, (int(round(x)), int(round(y))), int(round(r)), colour, -1, cv2.LINE_8)
        return
    corners = 4 if s.shape == "square" else 3
    turn = np.deg2rad(s.angle) + (np.pi / 4 if corners == 4 else -np.pi / 2)
    angles = turn + 2 * np.pi * np.arange(corners) / corners
    points = np.stack([x + r * 1.3 * np.cos(angles), y + r * 1.3 * np.sin(angles)], -1)
    cv2.fillPoly(image, [np.round(points).astype(np.int32)], colour, cv2.LINE_8)


def _state(event: Event, base: _Shape, t: int, size: int) -> _Shape:
    """The shape of `event` at frame t (before its start: as it starts; after its end: as it ends)."""
    span = max(1, event.end - event.start)
    u = float(np.clip((t - event.start) / span, 0.0, 1.0))        # progress through the event
    s = _Shape(base.colour, base.shape, base.x, base.y, base.size, base.angle, True)
    travel = size * 0.4
    action = event.action
    if action == "moves left":
        s.x -= travel * u
    elif action == "moves right":
        s.x += travel * u
    elif action == "moves up":
        s.y -= travel * u
    elif action == "moves down":
        s.y += travel * u
    elif action == "turns":
        s.angle += 45.0 * u                                       # never a symmetry of a square or triangle
    elif action == "grows":
        s.size *= 1 + 1.0 * u
    elif action == "shrinks":                                     # the same sizes as grows, backwards
        s.size *= 2 - u
    elif action == "appears":
        s.visible = t >= event.start + span / 2
    elif action == "disappears":
        s.visible = t < event.start + span / 2
    elif action == "bounces":
        s.x += travel * (1 - abs(1 - 2 * u))                      # out to the wall and back
    return s


def _start_of(action: str, size: int, rng: np.random.Generator) -> tuple[float, float, float]:
    """Where a shape starts (x, y) and its size, so that the whole event stays in the frame."""
    r = size * 0.1
    margin = r * 2.1
    travel = size * 0.4
    low_x, high_x, low_y, high_y = margin, size - margin, margin, size - margin
    if action == "moves left":
        low_x += travel
    elif action in ("moves right", "bounces"):
        high_x -= travel
    elif action == "moves up":
        low_y += travel
    elif action == "moves down":
        high_y -= travel
    elif action in ("grows", "shrinks"):                          # twice as big at one end
        margin2 = r * 2 * 1.3 + 1
        low_x, high_x, low_y, high_y = margin2, size - margin2, margin2, size - margin2
    return float(rng.uniform(low_x, high_x)), float(rng.uniform(low_y, high_y)), r


def _states(events: tuple[Event, ...], bases: list[_Shape], t: int, size: int) -> tuple[_Shape, ...]:
    """Every shape of the clip at frame t: where, how big, turned how, and whether it is visible."""
    out = []
    for event, base in zip(events, bases):
        state = _state(event, base, t, size)
        if event.action == "appears" and t < event.start:
            state.visible = False
        if event.action == "disappears" and t > event.end:
            state.visible = False
        out.append(state)
    return tuple(out)


def render(states: tuple[tuple[_Shape, ...], ...], size: int) -> np.ndarray:
    """Draw every frame from the shapes' states at that frame."""
    frames = np.empty((len(states), size, size, 3), np.uint8)
    for t, shapes in enumerate(states):
        image = np.empty((size, size, 3), np.uint8)
        image[:] = BACKGROUND
        for state in shapes:
            _draw(image, state)
        frames[t] = image
    return frames


def frame_labels(clip: Clip) -> np.ndarray:
    """What each frame shows, slot by slot (one slot per colour and shape, SUBJECTS order):
    float32 (T, len(SUBJECTS), 5) of visible, x / size, y / size, radius / (0.16 size) and
    angle / 45 degrees; zero for a shape that is not in the frame."""
    size = clip.frames.shape[1]
    out = np.zeros((len(clip.states), len(SUBJECTS), 5), np.float32)
    for t, shapes in enumerate(clip.states):
        for s in shapes:
            if s.visible and s.size >= 1:
                out[t, SUBJECTS.index((s.colour, s.shape))] = (1.0, s.x / size, s.y / size, s.size / (0.16 * size),
                                                                s.angle / 45.0)
    return out


def _generator(seed: int, split: str, stream: int = 0) -> np.random.Generator:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, SPLITS[split], stream])))


def _subjects(rng: np.random.Generator, count: int) -> list[tuple[str, str]]:
    """`count` distinct (colour, shape) pairs: no two events of a clip share a subject."""
    picks = rng.choice(len(SUBJECTS), size=count, replace=False)
    return [SUBJECTS[int(i)] for i in picks]


def _clip(rng: np.random.Generator, num_frames: int, size: int, late: bool) -> Clip:
    count = 1 if late else int(rng.integers(1, 4))
    subjects = _subjects(rng, count)
    actions = [str(rng.choice([a for a in ACTIONS if not (a == "turns" and shape == "circle")]))
               for _, shape in subjects]
    if late:                              # the only event begins in the last quarter
        start = int(rng.integers(int(np.ceil(num_frames * 0.75)), num_frames - 2))
        bounds = [(start, num_frames - 1)]
    else:                                 # consecutive segments, in order
        edges = np.linspace(0, num_frames, count + 1).round().astype(int)
        bounds = [(int(a), int(b) - 1) for a, b in zip(edges[:-1], edges[1:])]
    events, bases = [], []
    for (colour, shape), action, (start, end) in zip(subjects, actions, bounds):
        for _ in range(30):               # start apart from the other shapes where the frame allows
            x, y, r = _start_of(action, size, rng)
            if all(np.hypot(x - b.x, y - b.y) > 5 * r for b in bases):
                break
        events.append(Event(colour, shape, action, start, end))
        bases.append(_Shape(colour, shape, x, y, r))
    events = tuple(events)
    states = tuple(_states(events, bases, t, size) for t in range(num_frames))
    return Clip(render(states, size), caption_of(events), events, late=late, states=states)


def make_clips(n: int, *, seed: int, split: str = "test", num_frames: int = 24, size: int = 32,
               late_share: float = 0.2) -> list[Clip]:
    """`n` clips of `num_frames` frames of size x size, from `seed` and `split` alone.
    About `late_share` of them are late clips (see the module's docstring)."""
    return list(iter_clips(n, seed=seed, split=split, num_frames=num_frames, size=size, late_share=late_share))


def iter_clips(n: int, *, seed: int, split: str = "test", num_frames: int = 24, size: int = 32,
               late_share: float = 0.2) -> Iterator[Clip]:
    """The clips of make_clips one at a time (for sets too large to hold as frames)."""
    if not 16 <= num_frames <= 32:
        raise ValueError(f"clips have 16 to 32 frames, not {num_frames}")
    if not 32 <= size <= 64:
        raise ValueError(f"frames are 32 to 64 pixels wide, not {size}")
    if n < 0:
        raise ValueError("n must not be negative")
    rng = _generator(seed, split)
    for _ in range(n):
        yield _clip(rng, num_frames, size, late=bool(rng.random() < late_share))


def make_order_pair(index: int, *, seed: int, split: str = "test", num_frames: int = 24,
                    size: int = 32) -> tuple[Clip, Clip]:
    """Two clips with the same frames in opposite orders: one event whose reverse is another
    (moves left / right, up / down, grows / shrinks, appears / disappears)."""
    rng = _generator(seed, split, stream=1 + index)
    (colour, shape), = _subjects(rng, 1)
    action = str(rng.choice(sorted(REVERSED)))
    x, y, r = _start_of(action, size, rng)
    event = Event(colour, shape, action, 0, num_frames - 1)
    states = tuple(_states((event,), [_Shape(colour, shape, x, y, r)], t, size) for t in range(num_frames))
    frames = render(states, size)
    backwards = Event(colour, shape, REVERSED[action], 0, num_frames - 1)
    return (Clip(frames, caption_of((event,)), (event,), pair=index, states=states),
            Clip(frames[::-1].copy(), caption_of((backwards,)), (backwards,), pair=index, states=states[::-1]))
