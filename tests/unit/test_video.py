"""The synthetic game and the upload reader (seqviz.vit.video)."""

import cv2
import numpy as np
import pytest
import torch

from seqviz.vit import video


def test_game_is_deterministic_and_shaped():
    a = video.synthetic_game(20, 32, seed=3)
    b = video.synthetic_game(20, 32, seed=3)
    c = video.synthetic_game(20, 32, seed=4)
    assert a.shape == (20, 32, 32, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert video.synthetic_game(5).shape == (5, 64, 64, 3)


def test_game_has_a_moving_ball_a_scrolling_background_and_random_items():
    game = video.game_with_masks(96, 32, seed=0)
    ball = np.all(game.frames == (255, 230, 60), axis=-1)                 # (T, H, W)
    centres = np.array([np.argwhere(b).mean(0) for b in ball])
    assert ball.any(axis=(1, 2)).all() and np.ptp(centres[:, 1]) > 8      # the ball travels
    assert game.items.any() and game.surprise.any()
    assert (game.surprise & ~(game.items | np.roll(game.items, 1, axis=0))).sum() == 0
    flat = video.game_with_masks(8, 32, seed=0, textured_background=False).frames
    assert len(np.unique(flat[0, 8:20, 8:20].reshape(-1, 3), axis=0)) <= 3
    textured = game.frames
    assert not np.array_equal(textured[0, 4:8], textured[1, 4:8])        # background scrolls


def test_game_refuses_nonsense_sizes():
    with pytest.raises(ValueError):
        video.synthetic_game(0)
    with pytest.raises(ValueError):
        video.synthetic_game(4, size=8)


def _write(path, codec, frames=12, size=(48, 40)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), 10, size)
    assert writer.isOpened()
    for t in range(frames):
        image = np.zeros((size[1], size[0], 3), np.uint8)
        cv2.circle(image, (5 + 3 * t, 20), 5, (0, 255, 255), -1)
        writer.write(image)
    writer.release()
    return path


@pytest.mark.parametrize("name,codec", [("clip.avi", "MJPG"), ("clip.mp4", "mp4v")])
def test_read_video_decodes_files_written_by_opencv(tmp_path, name, codec):
    path = _write(tmp_path / name, codec)
    frames = video.read_video(path, size=32, max_frames=10)
    assert frames.shape == (10, 32, 32, 3) and frames.dtype == np.uint8
    assert frames[..., 0].max() > 200                                    # BGR yellow -> RGB red+green
    from_bytes = video.read_video(path.read_bytes(), size=16)
    assert from_bytes.shape == (12, 16, 16, 3)


def test_read_video_decodes_an_animated_gif(tmp_path):
    from PIL import Image

    images = [Image.fromarray(np.full((20, 30, 3), 20 * t, np.uint8)) for t in range(5)]
    path = tmp_path / "anim.gif"
    images[0].save(path, save_all=True, append_images=images[1:], duration=100, loop=0)
    frames = video.read_video(path.read_bytes(), size=16)
    assert frames.shape == (5, 16, 16, 3)
    assert frames[4].mean() > frames[0].mean()


@pytest.mark.parametrize("data,words", [
    (b"", "empty"),
    (b"this is certainly not a video" * 10, "could not be decoded"),
    (b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4, "could not be decoded"),
])
def test_read_video_refuses_garbage_with_a_clear_message(data, words):
    with pytest.raises(ValueError, match=words):
        video.read_video(data)


def test_read_video_refuses_too_short_too_large_and_corrupt(tmp_path):
    one = _write(tmp_path / "one.avi", "MJPG", frames=1)
    with pytest.raises(ValueError, match="at least 4"):
        video.read_video(one, min_frames=4)
    with pytest.raises(ValueError, match="limit"):
        video.read_video(b"x" * 100, max_bytes=50)
    good = _write(tmp_path / "good.avi", "MJPG").read_bytes()
    with pytest.raises(ValueError, match="not a video|corrupt|frame"):
        video.read_video(good[:200], min_frames=2)
    with pytest.raises(ValueError, match="no file"):
        video.read_video(tmp_path / "missing.mp4")


def test_read_video_refuses_a_huge_resolution(tmp_path):
    path = _write(tmp_path / "huge.avi", "MJPG", frames=2, size=(4000, 2200))
    with pytest.raises(ValueError, match="4K"):
        video.read_video(path)


def test_windows_pair_each_input_with_the_next_frame():
    clip = video.to_tensor(video.synthetic_game(10, 32))
    assert clip.shape == (10, 3, 32, 32) and float(clip.max()) <= 1.0
    inputs, targets = video.windows(clip, 3)
    assert inputs.shape == (7, 3, 3, 32, 32) and targets.shape == (7, 3, 32, 32)
    assert torch.equal(inputs[4, 2], clip[6]) and torch.equal(targets[4], clip[7])
    with pytest.raises(ValueError, match="at least 4"):
        video.windows(clip[:3], 3)


def test_to_tensor_is_channels_first_in_the_unit_range():
    frames = np.zeros((2, 4, 4, 3), np.uint8)
    frames[1, 2, 3] = (255, 0, 51)
    clip = video.to_tensor(frames)
    assert clip[1, :, 2, 3].tolist() == pytest.approx([1.0, 0.0, 0.2])
    assert video.DEFAULT_VIDEO == {"num_frames": 96, "size": 32}
