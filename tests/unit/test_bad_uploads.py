"""Malformed uploads through the video reader: each is refused with a clear ValueError, or read
as the video it is, within seconds and with bounded memory, with the settings of both pages
that take uploads (the predictive ViT page and the captioning page)."""

from __future__ import annotations

import re
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqviz.ui.captioning import clips
from seqviz.ui.vit import page as vit_page
from seqviz.vit import frame_sizes, video
from tests.upload_corpus import CORPUS, gif_declaring, png_declaring, write_corpus

SECONDS = 5.0                     # per file, on a shared 2-core machine
PEAK_BYTES = 300 * 2**20          # the reader's peak memory above the process's before it
# The reader's settings on each page: (max_frames, min_frames). The ViT page needs the model's
# input frames + 1 (3 + 1 by default); the captioning page takes any video of one frame or more.
PAGES = {"predictive_vit": (2 * vit_page.VIDEO_FRAMES, 2), "video_captioning": (clips.UPLOAD_READ_FRAMES, 1)}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return write_corpus(tmp_path_factory.mktemp("uploads"))


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def peak_memory(action: Callable[[], object]) -> tuple[object, int]:
    """(what `action` returned or raised, its peak memory in bytes above the process's before it).

    Linux: the resident set's high-water mark, reset first (``echo 5 > /proc/self/clear_refs``),
    so memory that OpenCV, FFmpeg and PIL allocate in C counts too. Elsewhere: tracemalloc, which
    sees only what Python and numpy allocate."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        before = _status_kib("VmRSS")
        rss = True
    except OSError:
        tracemalloc.start()
        rss = False
    try:
        outcome: object = action()
    except Exception as error:  # noqa: BLE001 - returned for the test to judge
        outcome = error
    if rss:
        return outcome, (_status_kib("VmHWM") - before) * 1024
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return outcome, peak


@pytest.mark.parametrize("page", sorted(PAGES))
@pytest.mark.parametrize("upload", CORPUS, ids=[u.name for u in CORPUS])
def test_every_bad_upload_is_refused_clearly_or_read_quickly_in_bounded_memory(corpus, upload, page):
    max_frames, min_frames = PAGES[page]
    data = corpus[upload.name].read_bytes()
    start = time.perf_counter()
    outcome, peak = peak_memory(lambda: video.read_video(data, max_frames=max_frames, size=32,
                                                         min_frames=min_frames))
    seconds = time.perf_counter() - start
    assert seconds < SECONDS, f"{upload.what}: {seconds:.1f} s"
    assert peak < PEAK_BYTES, f"{upload.what}: {peak / 2**20:.0f} MiB"
    if upload.frames is not None and upload.frames >= min_frames:
        assert not isinstance(outcome, BaseException), f"{upload.what}: {outcome!r}"
        assert outcome.shape == (min(upload.frames, max_frames), 32, 32, 3) and outcome.dtype == "uint8"
        return
    assert type(outcome) is ValueError, f"{upload.what}: {outcome!r}"   # the documented error, no other
    message = str(outcome)
    expected = upload.refused or f"has {upload.frames} frame\\(s\\); at least {min_frames} are needed"
    assert re.search(expected, message), message
    assert "Traceback" not in message and "/tmp" not in message and len(message) < 300


def test_a_4k_video_is_read_and_shrunk_and_one_pixel_wider_is_refused(tmp_path):
    """4K UHD is the largest source allowed (MAX_SOURCE_PIXELS): read, centre-cropped, shrunk."""
    from tests.upload_corpus import opencv_video

    assert video.MAX_SOURCE_PIXELS == 3840 * 2160
    frames = video.read_video(opencv_video(tmp_path, "uhd.avi", "MJPG", 3, (3840, 2160)), size=16)
    assert frames.shape == (3, 16, 16, 3) and frames[..., :2].max() > 200   # the yellow disc is there
    with pytest.raises(ValueError, match="3842×2160 pixels"):
        video.read_video(opencv_video(tmp_path, "wider.avi", "MJPG", 2, (3842, 2160)))


def test_a_long_video_stops_at_max_frames(corpus):
    data = corpus["long.avi"].read_bytes()
    start = time.perf_counter()
    frames = video.read_video(data, max_frames=50, size=8)
    assert frames.shape == (50, 8, 8, 3) and time.perf_counter() - start < SECONDS


@pytest.mark.parametrize("width,height", [(3840, 2160), (2160, 3840), (4000, 2100), (65535, 1), (1, 65535)])
@pytest.mark.parametrize("write", [gif_declaring, png_declaring])
def test_declared_sizes_read_gif_and_png_headers(write, width, height):
    data = write(width, height)
    assert (width, height) in list(frame_sizes.declared_sizes(data))
    if width * height > video.MAX_SOURCE_PIXELS:
        with pytest.raises(ValueError, match=f"{width}×{height}"):
            frame_sizes.refuse_giants(data, video.MAX_SOURCE_PIXELS)
    else:
        frame_sizes.refuse_giants(data, video.MAX_SOURCE_PIXELS)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048), st.sampled_from([b"", b"GIF89a", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
                                                   b"\xff\xd8\xff", b"\xff\xd8\xff\xc0\x00\x11\x08",
                                                   b"RIFF\x00\x00\x00\x00AVI LIST"]))
def test_the_header_reader_takes_any_bytes(tail, head):
    """Whatever bytes arrive, reading their declared sizes ends (fast) in sizes or a ValueError."""
    data = head + tail
    try:
        sizes = list(frame_sizes.declared_sizes(data))
    except ValueError as error:
        assert "4K" in str(error)
        return
    assert all(0 <= w < 2**32 and 0 <= h < 2**32 for w, h in sizes)


MAGIC = [b"", b"GIF89a", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"\x00\x00\x00\x18ftypmp42",
         b"RIFF\x00\x00\x00\x00AVI ", b"\x1aE\xdf\xa3"]                 # ... mp4, AVI, Matroska / WebM


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1, max_size=4096), st.sampled_from(MAGIC))
def test_the_reader_takes_any_bytes(tail, head):
    """Arbitrary bytes (behind a real format's magic number): a ValueError or a video, never another error."""
    try:
        frames = video.read_video(head + tail)
    except ValueError as error:
        assert str(error)
        return
    assert frames.ndim == 4 and frames.shape[1:] == (32, 32, 3) and len(frames) >= 2
