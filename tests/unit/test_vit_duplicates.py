"""Repeated frames in a video (seqviz.vit.video.duplicate_frames), on arrays and on a real file."""

import cv2
import numpy as np

from seqviz.vit import video as videos


def _moving_square(count: int) -> np.ndarray:
    frames = np.full((count, 32, 32, 3), 30, np.uint8)
    for t in range(count):
        frames[t, 10:18, 2 * t % 24:2 * t % 24 + 8] = 220
    return frames


def test_a_frame_equal_to_the_one_before_is_a_duplicate():
    frames = _moving_square(6)
    doubled = np.repeat(frames, 2, axis=0)                                   # every frame twice
    repeats = videos.duplicate_frames(doubled)
    assert repeats.tolist() == [False, True] * 6
    assert not videos.duplicate_frames(frames).any()
    assert videos.duplicate_frames(frames[:1]).tolist() == [False]


def test_the_tolerance_is_a_mean_absolute_difference_in_uint8_units():
    base = np.full((2, 4, 4, 3), 100, np.uint8)
    noisy = base.copy()
    noisy[1, 0, 0, 0] += 20                     # mean |diff| = 20 / 48 ≈ 0.42
    assert videos.duplicate_frames(noisy, tolerance=0.5).tolist() == [False, True]
    assert videos.duplicate_frames(noisy, tolerance=0.4).tolist() == [False, False]
    wrap = np.zeros((2, 1, 1, 1), np.uint8)
    wrap[1] = 255                               # no uint8 wrap-around: 255 apart
    assert videos.duplicate_frames(wrap).tolist() == [False, False]


def test_an_mp4_with_every_frame_written_twice_is_found_after_decoding(tmp_path):
    path = tmp_path / "doubled.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 64))
    for t in range(12):
        image = np.full((64, 64, 3), 40, np.uint8)
        cv2.circle(image, (8 + 4 * t, 32), 7, (0, 220, 255), -1)
        writer.write(image)
        writer.write(image)
    writer.release()
    frames = videos.read_video(path, max_frames=96, size=32)
    repeats = videos.duplicate_frames(frames)
    assert len(frames) == 24
    assert repeats[1::2].all() and not repeats[2::2].any()
