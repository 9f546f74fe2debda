"""The captioned clip dataset (seqviz.captioning.data): seeded splits, the grammar, late clips,
order pairs, and events that the frames really show."""

import hashlib

import numpy as np
import pytest

from seqviz.captioning import data


def _digest(frames: np.ndarray) -> str:
    return hashlib.sha1(frames.tobytes()).hexdigest()


def _pixels(frame: np.ndarray) -> np.ndarray:
    return np.argwhere((frame != data.BACKGROUND).any(-1))          # (n, 2) y, x of drawn pixels


def test_clips_come_from_the_seed_and_split_alone_and_splits_do_not_overlap():
    first, again = data.make_clips(30, seed=3, split="train"), data.make_clips(30, seed=3, split="train")
    assert [c.caption for c in first] == [c.caption for c in again]
    assert all(np.array_equal(a.frames, b.frames) for a, b in zip(first, again))
    test = data.make_clips(30, seed=3, split="test")
    assert {_digest(c.frames) for c in first}.isdisjoint({_digest(c.frames) for c in test})
    clip = first[0]
    assert clip.frames.dtype == np.uint8 and clip.frames.shape == (24, 32, 32, 3)
    assert data.make_clips(2, seed=3, num_frames=16, size=64)[0].frames.shape == (16, 64, 64, 3)
    for bad in (dict(num_frames=8), dict(size=128), dict(split="holdout")):
        with pytest.raises(ValueError):
            data.make_clips(1, seed=0, **bad)


def test_every_caption_is_the_grammar_of_its_events_in_time_order():
    clips = data.make_clips(200, seed=0, split="validation")
    counts = {len(c.events) for c in clips}
    assert counts == {1, 2, 3}
    for clip in clips:
        clauses = data.parse(clip.caption)
        events = sorted(clip.events, key=lambda e: e.start)
        assert clauses == tuple((e.colour, e.shape, e.action) for e in events)
        assert len({(e.colour, e.shape) for e in clip.events}) == len(clip.events)   # distinct subjects
        assert all(a.end < b.start for a, b in zip(events, events[1:]))             # one after another
        assert not any(e.shape == "circle" and e.action == "turns" for e in clip.events)
        assert data.decode(data.encode(clip.caption)) == clip.caption
    assert {a for c in clips for a in (e.action for e in c.events)} == set(data.ACTIONS)


def test_words_outside_the_grammar_are_refused_with_the_known_words():
    with pytest.raises(ValueError, match="unknown word.*'purple'.*circle"):
        data.encode("the purple circle moves left")
    with pytest.raises(ValueError, match="not one of the actions"):
        data.parse("the red circle flies")
    with pytest.raises(ValueError, match="is not 'the <colour> <shape> <action>'"):
        data.parse("a red circle moves left")


def test_in_a_late_clip_nothing_happens_before_the_last_quarter():
    clips = [c for c in data.make_clips(100, seed=1, split="test") if c.late]
    assert 5 <= len(clips) <= 40
    for clip in clips:
        (event,) = clip.events
        assert event.start >= 0.75 * len(clip.frames)
        before, after = clip.frames[:event.start], clip.frames[event.start:]
        assert (before == clip.frames[0]).all()                        # a caption written now is wrong
        assert not (after == clip.frames[0]).all()


def test_an_order_pair_holds_the_same_frames_in_another_order_with_the_reverse_caption():
    for index in range(6):
        forward, backward = data.make_order_pair(index, seed=0)
        assert sorted(map(_digest, forward.frames)) == sorted(map(_digest, backward.frames))
        assert not np.array_equal(forward.frames, backward.frames)
        (event,), (reverse,) = forward.events, backward.events
        assert reverse.action == data.REVERSED[event.action] and forward.caption != backward.caption
        assert forward.pair == backward.pair == index


@pytest.mark.parametrize("action", data.ACTIONS)
def test_the_frames_show_each_action(action):
    shape = "square" if action == "turns" else "circle"
    event = data.Event("red", shape, action, 2, 17)
    rng = np.random.default_rng(0)
    x, y, r = data._start_of(action, 48, rng)
    base = [data._Shape("red", shape, x, y, r)]
    frames = data.render(tuple(data._states((event,), base, t, 48) for t in range(20)), 48)
    first, middle, last = (_pixels(frames[t]) for t in (2, 10, 17))
    if action == "appears":
        assert len(first) == 0 and len(last) > 0
        return
    if action == "disappears":
        assert len(first) > 0 and len(last) == 0
        return
    for pixels in (first, middle, last):                                 # never leaves the frame
        assert len(pixels) > 0 and pixels.min() > 0 and pixels.max() < 47
    dy, dx = last.mean(0) - first.mean(0)
    expected = {"moves left": dx < -10, "moves right": dx > 10, "moves up": dy < -10, "moves down": dy > 10,
                "grows": len(last) > 2 * len(first), "shrinks": len(last) < 0.6 * len(first),
                "turns": abs(dx) < 1 and abs(dy) < 1 and not np.array_equal(frames[2], frames[17]),
                "bounces": abs(dx) < 2 and middle.mean(0)[1] - first.mean(0)[1] > 10}
    assert expected[action], (action, dx, dy, len(first), len(last))


def test_frame_labels_say_which_shapes_are_where_in_each_frame():
    for clip in data.make_clips(40, seed=3, split="validation"):
        labels = data.frame_labels(clip)
        size = clip.frames.shape[1]
        assert labels.shape == (len(clip.frames), len(data.SUBJECTS), 5)
        for t in (0, len(clip.frames) // 2, len(clip.frames) - 1):
            shown = {data.SUBJECTS[i] for i in np.flatnonzero(labels[t, :, 0])}
            assert shown <= {(e.colour, e.shape) for e in clip.events}
            for state in clip.states[t]:
                slot = labels[t, data.SUBJECTS.index((state.colour, state.shape))]
                assert slot[0] == (state.visible and state.size >= 1)
                if slot[0]:                                    # drawn alone, the shape covers its labelled centre
                    alone = data.render(((state,),), size)[0]
                    assert tuple(alone[int(slot[2] * size), int(slot[1] * size)]) == data.COLOURS[state.colour]
    forward, backward = data.make_order_pair(0, seed=1)
    assert np.array_equal(data.frame_labels(forward)[::-1], data.frame_labels(backward))


def test_played_backwards_every_reversible_action_is_its_reverse_played_forwards():
    """An order twin is a clip the training data could hold: sizes, places and visibility
    frame by frame equal those of the reversed action started where the first one ends."""
    frames = 24
    for action, backwards in data.REVERSED.items():
        start = data._Shape("red", "square", 16.0, 16.0, 3.2)
        forth = [data._states((data.Event("red", "square", action, 0, frames - 1),), [start], t, 32)[0]
                 for t in range(frames)]
        end = data._Shape("red", "square", forth[-1].x, forth[-1].y, 3.2)
        back = [data._states((data.Event("red", "square", backwards, 0, frames - 1),), [end], t, 32)[0]
                for t in range(frames)]
        for t in range(frames):
            a, b = back[t], forth[frames - 1 - t]
            assert (a.visible, round(a.x, 9), round(a.y, 9), round(a.size, 9)) == (
                b.visible, round(b.x, 9), round(b.y, 9), round(b.size, 9)), (action, t)
