"""The frame sizes a video or image file declares, read from its headers before anything is decoded.

A decoder allocates a frame at the size its header declares, before it looks at the pixels: a
35-byte GIF can declare a 15000 × 15000 screen, a 20 kB PNG a 12000 × 12000 image. OpenCV reports
the size of a video's first frame when it opens the file, but a later frame may be larger: an AVI
whose first motion-JPEG frame is 16 × 16 can go on with frames of 9000 × 9000, which FFmpeg
decodes at full size before OpenCV scales them to the first one. So the reader looks first: the
GIF logical screen (GIF89a spec, section 18), the IHDR chunk of every PNG in the file (PNG spec,
11.2.2), the frame header (SOF) of every JPEG in it, wherever a container put them (ITU-T T.81,
B.2.2), and whatever PIL can tell from the header of an image format it knows (PIL reads headers
only on opening).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator

__all__ = ["declared_sizes", "refuse_giants", "too_large"]

_JPEG_START = b"\xff\xd8\xff"                       # SOI, then the first marker
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_SEGMENTS_BEFORE_FRAME = 64                       # APPn, DQT, DHT, ... before the frame header


def too_large(width: int, height: int) -> ValueError:
    return ValueError(f"the video is {width}×{height} pixels; the largest allowed is 3840×2160 (4K). "
                      "Please upload a smaller video.")


def _jpeg_frame_size(data: bytes, start: int) -> tuple[int, int] | None:
    """(width, height) from the SOF segment of the JPEG whose SOI is at `start`, if well formed."""
    i = start + 2
    for _ in range(_SEGMENTS_BEFORE_FRAME):
        if i + 4 > len(data) or data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:                                          # a fill byte
            i += 1
            continue
        if marker in _SOF_MARKERS:
            if i + 9 > len(data):
                return None
            height, width = struct.unpack_from(">HH", data, i + 5)  # length, precision, Y, X
            return width, height
        if marker in (0xD9, 0xDA):                                  # end of image, start of scan
            return None
        length = struct.unpack_from(">H", data, i + 2)[0]
        if length < 2:
            return None
        i += 2 + length
    return None


def _every(data: bytes, needle: bytes) -> Iterator[int]:
    at = data.find(needle)
    while at >= 0:
        yield at
        at = data.find(needle, at + len(needle))


def declared_sizes(data: bytes) -> Iterator[tuple[int, int]]:
    """Every (width, height) the file declares in a header readable without decoding. Raises
    ValueError when PIL refuses the header as a decompression bomb (its limit is far above 4K)."""
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        yield struct.unpack_from("<HH", data, 6)                    # the logical screen
    for at in _every(data, _PNG_SIGNATURE):
        if data[at + 12:at + 16] == b"IHDR" and len(data) >= at + 24:
            yield struct.unpack_from(">II", data, at + 16)
    for at in _every(data, _JPEG_START):
        size = _jpeg_frame_size(data, at)
        if size is not None:
            yield size
    try:
        from PIL import Image
    except ImportError:
        return
    try:
        with Image.open(io.BytesIO(data)) as image:
            size = image.size
    except Image.DecompressionBombError:
        raise ValueError("the file declares frames far larger than 3840×2160 (4K), the largest allowed. "
                         "Please upload a smaller video.") from None
    except Exception:  # noqa: BLE001 - not an image format PIL knows: a video container, or garbage
        return
    yield size


def refuse_giants(data: bytes, max_pixels: int) -> None:
    """ValueError naming the size when any frame size the file declares exceeds `max_pixels`."""
    for width, height in declared_sizes(data):
        if width * height > max_pixels:
            raise too_large(width, height)
