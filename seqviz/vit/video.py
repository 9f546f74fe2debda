"""Videos for next-frame prediction: a synthetic game and a safe reader for uploads.

The game mixes parts a model can predict from the past (a ball bouncing off the
walls, a paddle that follows it, a background scrolling at constant speed) with a
part it cannot (items popping up at random times and places), so the error of a
predictor can be split between the two ("where it fails" on the page).
Uploads go through OpenCV (PIL for animated GIFs when OpenCV cannot decode them),
are cropped to a square, resized and limited in length; anything unusable raises
ValueError with a message a student can act on. The frame sizes a file declares (in
its image headers, seqviz.vit.frame_sizes, and as OpenCV opens it) are checked before a
frame is decoded, so a small file declaring huge frames is refused before it takes memory.
`windows` pairs every run of F frames with the frame after it: the inputs and targets of
next-frame prediction.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from seqviz.vit import frame_sizes

__all__ = ["GameVideo", "synthetic_game", "game_with_masks", "read_video", "to_tensor", "windows",
           "DEFAULT_VIDEO", "MAX_UPLOAD_BYTES", "MAX_SOURCE_PIXELS", "VIDEO_TYPES"]

DEFAULT_VIDEO = dict(num_frames=96, size=32)   # the page's default game, the shipped models' test

MAX_UPLOAD_BYTES = 20 * 2**20          # 20 MiB
MAX_SOURCE_PIXELS = 3840 * 2160        # 4K UHD; larger sources are refused
VIDEO_TYPES = ("mp4", "webm", "avi", "mov", "gif")
_BALL, _PADDLE, _ITEM, _WALL = (255, 230, 60), (80, 200, 255), (240, 40, 60), (150, 150, 150)


@dataclass(frozen=True)
class GameVideo:
    """Frames and, per frame, the pixels that random items changed (unpredictable)."""

    frames: np.ndarray      # uint8 (T, H, W, 3)
    surprise: np.ndarray    # bool (T, H, W): pixels where an item appeared or vanished
    items: np.ndarray       # bool (T, H, W): pixels of every item on screen
    movers: np.ndarray      # bool (T, H, W): ball and paddle now or a frame ago (predictable motion)
    ball: np.ndarray        # bool (T, H, W): the ball's pixels in each frame
    bounce: np.ndarray      # bool (T,): the ball's step into frame t differs from its step into t-1 (a bounce)


def _background(size: int, num_frames: int, rng: np.random.Generator, textured: bool) -> np.ndarray:
    """(T, H, W, 3) background: a fixed random texture scrolling 1 pixel per frame, or flat."""
    if not textured:
        return np.broadcast_to(np.array([30, 30, 45], np.uint8), (num_frames, size, size, 3)).copy()
    coarse = rng.integers(0, 2, size=(size // 4 + 1, size // 4 + 1))
    texture = np.kron(coarse, np.ones((4, 4)))[:size, :size]         # (H, W) blocks of 4 px
    stripes = 0.5 + 0.5 * np.sin(np.arange(size) * 2 * np.pi / 8)    # (W,)
    base = 25 + 35 * texture + 20 * stripes[None, :]                 # (H, W)
    tint = np.array([0.7, 0.9, 1.0])
    frames = [np.roll(base, -t, axis=1)[..., None] * tint for t in range(num_frames)]  # scroll left
    return np.clip(np.stack(frames), 0, 255).astype(np.uint8)       # (T, H, W, 3)


def game_with_masks(num_frames: int, size: int = 64, *, seed: int = 0,
                    textured_background: bool = True, item_rate: float = 0.08,
                    item_life: int = 8, speed: float = 1.0) -> GameVideo:
    """Render the game and the masks of its parts. Same seed, same video.

    The seed draws the background texture, the ball's start and direction and the items;
    `speed` scales the ball's velocity (1.0: 1.3 and 1.0 pixels per frame at 32 px)."""
    if num_frames < 1:
        raise ValueError("num_frames must be at least 1")
    if size < 16:
        raise ValueError("size must be at least 16 pixels")
    rng = np.random.default_rng(seed)
    frames = _background(size, num_frames, rng, textured_background)
    items = np.zeros((num_frames, size, size), bool)
    surprise = np.zeros((num_frames, size, size), bool)
    movers = np.zeros((num_frames, size, size), bool)
    balls = np.zeros((num_frames, size, size), bool)
    centres = np.zeros((num_frames, 2))
    yy, xx = np.mgrid[0:size, 0:size]
    wall = max(1, size // 32)
    radius = max(1.5, size / 16)
    paddle_half, paddle_h = size // 8, max(1, size // 21)
    paddle_y = size - wall - paddle_h - 1
    low, high = wall + radius, size - wall - radius
    pos = rng.uniform(low + 2, high - size / 4, size=2)               # (x, y)
    vel = rng.choice([-1.0, 1.0], size=2) * np.array([1.3, 1.0]) * size / 32 * speed
    paddle_x = size / 2
    living: list[list[int]] = []                                      # [x, y, frames left]
    for t in range(num_frames):
        frame = frames[t]
        frame[:wall, :], frame[:, :wall], frame[:, -wall:] = _WALL, _WALL, _WALL
        # unpredictable: items appear at random times and places, live a few frames
        living = [[x, y, left - 1] for x, y, left in living if left > 1]
        if t > 0 and rng.random() < item_rate:
            half = max(1, size // 16)
            x, y = (int(v) for v in rng.integers(wall + half, size - wall - half - 1, size=2))
            living.append([x, y, item_life])
        for x, y, _ in living:
            half = max(1, size // 16)
            items[t] |= (abs(xx - x) <= half) & (abs(yy - y) <= half)
        surprise[t] = items[t] ^ items[t - 1] if t > 0 else False  # appeared or vanished
        frame[items[t]] = _ITEM
        # predictable: the paddle follows the ball at a limited speed, the ball bounces
        paddle_x += np.clip(pos[0] - paddle_x, -size / 40, size / 40)
        paddle = (abs(xx - paddle_x) <= paddle_half) & (yy >= paddle_y) & (yy < paddle_y + paddle_h)
        ball = (xx - pos[0]) ** 2 + (yy - pos[1]) ** 2 <= radius ** 2
        frame[paddle], frame[ball] = _PADDLE, _BALL
        movers[t] = paddle | ball
        balls[t] = ball
        centres[t] = pos
        pos = pos + vel
        for axis in (0, 1):
            top = high if axis == 0 else min(high, paddle_y - radius)
            if pos[axis] < low or pos[axis] > top:
                vel[axis] = -vel[axis]
                pos[axis] = np.clip(pos[axis], low, top)
    movers[1:] |= movers[:-1]
    step = np.diff(centres, axis=0)                                   # (T-1, 2) displacement
    bounce = np.zeros(num_frames, bool)                               # the step into t is not the one into t-1
    bounce[2:] = np.abs(step[1:] - step[:-1]).max(-1) > 1e-6
    return GameVideo(frames, surprise, items, movers, balls, bounce)


def synthetic_game(num_frames: int, size: int = 64, *, seed: int = 0,
                   textured_background: bool = True) -> np.ndarray:
    """The game's frames, uint8 (T, H, W, 3)."""
    return game_with_masks(num_frames, size, seed=seed, textured_background=textured_background).frames


def to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 (T, H, W, 3) -> float (T, 3, H, W) in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0


def windows(clip: torch.Tensor, frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(T, C, H, W) -> inputs (T-frames, frames, C, H, W) and targets (T-frames, C, H, W)."""
    if clip.shape[0] <= frames:
        raise ValueError(f"the video has {clip.shape[0]} frames; the model reads {frames} and "
                         f"predicts the next, so it needs at least {frames + 1}")
    inputs = clip.unfold(0, frames, 1)[:-1]                  # (T-frames, C, H, W, frames)
    return inputs.permute(0, 4, 1, 2, 3).contiguous(), clip[frames:]


def _square_resize(frame: np.ndarray, size: int) -> np.ndarray:
    import cv2

    height, width = frame.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    crop = frame[top:top + side, left:left + side]                   # (side, side, 3)
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)


def _frames_with_opencv(path: str, max_frames: int, size: int) -> list[np.ndarray]:
    import cv2

    capture = cv2.VideoCapture(path)
    frames: list[np.ndarray] = []
    try:
        if not capture.isOpened():
            return frames
        width, height = (int(capture.get(p)) for p in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT))
        if width * height > MAX_SOURCE_PIXELS:  # the first frame's size, before it is decoded
            raise frame_sizes.too_large(width, height)
        while len(frames) < max_frames:
            ok, bgr = capture.read()
            if not ok or bgr is None:
                break
            if bgr.ndim != 3 or bgr.shape[0] * bgr.shape[1] > MAX_SOURCE_PIXELS:
                raise frame_sizes.too_large(bgr.shape[1], bgr.shape[0])
            frames.append(_square_resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), size))
    finally:
        capture.release()
    return frames


def _frames_with_pil(path: str, max_frames: int, size: int) -> list[np.ndarray]:
    try:
        from PIL import Image, ImageSequence
    except ImportError:
        return []
    frames: list[np.ndarray] = []
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_SOURCE_PIXELS:
                raise frame_sizes.too_large(image.width, image.height)
            for frame in ImageSequence.Iterator(image):
                frames.append(_square_resize(np.asarray(frame.convert("RGB")), size))
                if len(frames) >= max_frames:
                    break
    except ValueError:
        raise
    except Exception:  # noqa: BLE001 - PIL raises many kinds for a file it cannot read
        return []
    return frames


def read_video(source: bytes | str | Path, *, max_frames: int = 96, size: int = 32,
               min_frames: int = 2, max_bytes: int = MAX_UPLOAD_BYTES) -> np.ndarray:
    """Decode an uploaded video (bytes or a path) to uint8 (T, size, size, 3).

    Frames are centre-cropped to a square and resized; at most `max_frames` are
    kept. Raises ValueError saying what is wrong: empty, too many bytes, frames over
    MAX_SOURCE_PIXELS (as declared, or as decoded), not a video (or corrupt), or
    shorter than `min_frames`.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"there is no file at {path}")
        data = path.read_bytes()
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        raise ValueError("expected the bytes of a video file or a path to one")
    if len(data) == 0:
        raise ValueError("the file is empty (0 bytes); please upload a video file")
    if len(data) > max_bytes:
        raise ValueError(f"the file is {len(data) / 2**20:.1f} MiB; the limit is "
                         f"{max_bytes / 2**20:.0f} MiB. Please upload a shorter or smaller video.")
    frame_sizes.refuse_giants(data, MAX_SOURCE_PIXELS)
    handle, temp = tempfile.mkstemp(suffix=".gif" if data[:6] in (b"GIF87a", b"GIF89a") else ".video")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        frames = _frames_with_opencv(temp, max_frames, size)
        if not frames:
            frames = _frames_with_pil(temp, max_frames, size)
    finally:
        os.unlink(temp)
    if not frames:
        raise ValueError("this file could not be decoded as a video: it is not a video, or it is "
                         f"corrupt. Supported formats: {', '.join(VIDEO_TYPES)}.")
    if len(frames) < min_frames:
        raise ValueError(f"the video has {len(frames)} frame(s); at least {min_frames} are needed "
                         "(the model reads several frames to predict the next one).")
    return np.stack(frames).astype(np.uint8)                          # (T, size, size, 3)


def duplicate_frames(frames: np.ndarray, tolerance: float = 0.5) -> np.ndarray:
    """Which frames repeat the frame before them: bool (T,).

    Frame t (t >= 1) is a duplicate when the mean |frame t - frame t-1| over its pixels
    and colours is below `tolerance`, in uint8 units (0.5 is 0.5/255 of the range), so a
    frame re-encoded with a little compression noise still counts. Many real videos
    repeat frames (a 15 fps film stored at 30 fps); there copying the last frame is
    exact. Frame 0 has no frame before it and is never a duplicate.
    """
    frames = np.asarray(frames)
    repeats = np.zeros(len(frames), dtype=bool)
    if len(frames) > 1:
        change = np.abs(np.diff(frames.astype(np.int16), axis=0))          # (T-1, H, W, C)
        repeats[1:] = change.reshape(len(frames) - 1, -1).mean(1) < tolerance
    return repeats
