"""Malformed and extreme uploads, written by the tests themselves (no binaries in git).

Each entry names a file, how to write it, and what the reader (seqviz.vit.video.read_video)
must make of it: refused with a ValueError whose message matches `refused`, or read as a video
of `frames` frames (a real video, or a picture that decodes as one frame). The unit tests feed
every entry to the reader with each page's settings; the browser test uploads them all.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from seqviz.vit import video

NOT_DECODABLE = "could not be decoded as a video: it is not a video, or it is corrupt"


@dataclass(frozen=True)
class Upload:
    name: str
    what: str
    write: Callable[[Path], bytes]      # writes nothing itself: returns the file's bytes
    refused: str | None = None          # a regex the ValueError's message must match ...
    frames: int | None = None           # ... or the frames the file holds (read up to max_frames)

    @property
    def extension_allowed(self) -> bool:
        return self.name.rsplit(".", 1)[-1].lower() in video.VIDEO_TYPES


def opencv_video(directory: Path, name: str, codec: str, frames: int, size: tuple[int, int],
                 fps: int = 10) -> bytes:
    """A video of a yellow disc moving right from the centre, a 64th of the width a frame (so that
    no two frames are alike once shrunk to 32 × 32), written by OpenCV (mp4v or MJPG)."""
    path = directory / name
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), fps, size)
    assert writer.isOpened(), f"OpenCV cannot write {codec} here"
    width, height = size
    for t in range(frames):
        image = np.zeros((height, width, 3), np.uint8)
        centre = ((width // 2 + max(1, width // 64) * t) % width, height // 2)
        cv2.circle(image, centre, max(2, height // 8), (0, 255, 255), -1)
        writer.write(image)
    writer.release()
    return path.read_bytes()


def gif_declaring(width: int, height: int) -> bytes:
    """A 35-byte GIF whose logical screen and one image are width × height: a two-colour
    palette and an LZW stream of a clear code and an end code (GIF89a spec, sections 18-22)."""
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0)   # global table, 2 colours
    palette = b"\x00\x00\x00\xff\xff\xff"
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
    return header + palette + image + b"\x02\x02\x44\x01\x00" + b"\x3b"    # min code 2, one sub-block


def png_declaring(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of width × height black pixels: a few kB that decode to
    width × height × 3 bytes once converted to colour."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)                                  # filter byte, then the bits
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


def _jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 90).save(out, "JPEG", quality=30)
    return out.getvalue()


def _riff_chunks(data: bytes, start: int, end: int):
    at = start
    while at + 8 <= end:
        kind, size = data[at:at + 4], struct.unpack_from("<I", data, at + 4)[0]
        yield kind, at, size
        at += 8 + size + (size & 1)


def mjpeg_avi(directory: Path, jpegs: list[bytes], header_size: tuple[int, int] = (16, 16)) -> bytes:
    """An MJPG AVI whose headers (written by OpenCV) say `header_size` but whose frames are
    `jpegs`: OpenCV's movi list is replaced, and its index dropped (FFmpeg reads movi in order)."""
    data = opencv_video(directory, "mjpeg_template.avi", "MJPG", len(jpegs), header_size)
    out = bytearray(data[:12])                                                # RIFF size AVI
    for kind, at, size in _riff_chunks(data, 12, len(data)):
        if kind == b"LIST" and data[at + 8:at + 12] == b"movi":
            body = b"movi" + b"".join(b"00dc" + struct.pack("<I", len(j)) + j + b"\0" * (len(j) & 1)
                                      for j in jpegs)
            out += b"LIST" + struct.pack("<I", len(body)) + body
        elif kind != b"idx1":
            out += data[at:at + 8 + size + (size & 1)]
    out[4:8] = struct.pack("<I", len(out) - 8)
    return bytes(out)


def _truncated(directory: Path) -> bytes:
    whole = opencv_video(directory, "whole.mp4", "mp4v", 24, (96, 72))
    return whole[:len(whole) // 2]                                           # the moov atom is at the end


def _picture(directory: Path) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _one_frame_gif(directory: Path) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 200, 30)).save(out, "GIF")
    return out.getvalue()


def _zip(directory: Path) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes.txt", "lecture notes\n" * 200)
        archive.writestr("frames/readme.md", "# not a video\n")
    return out.getvalue()


CORPUS = (
    Upload("empty.mp4", "an empty file", lambda d: b"", refused="empty"),
    Upload("truncated.mp4", "the first half of an mp4", _truncated, refused=NOT_DECODABLE),
    Upload("clip.mkv", "a real video with an extension the uploader does not take",
           lambda d: opencv_video(d, "clip.avi", "MJPG", 24, (48, 40)), frames=24),
    Upload("notes.mp4", "a text file renamed .mp4", lambda d: b"These are my lecture notes.\n" * 100,
           refused=NOT_DECODABLE),
    Upload("picture.mp4", "a PNG picture renamed .mp4", _picture, frames=1),
    Upload("one_frame.gif", "a GIF of a single frame", _one_frame_gif, frames=1),
    Upload("screen_20000.gif", "a 35-byte GIF declaring a 20000 × 20000 screen",
           lambda d: gif_declaring(20000, 20000), refused="20000×20000 pixels.*4K"),
    Upload("screen_15000.gif", "a 35-byte GIF declaring a 15000 × 15000 screen",
           lambda d: gif_declaring(15000, 15000), refused="15000×15000 pixels.*4K"),
    Upload("png_12000.mp4", "a 17 kB PNG declaring 12000 × 12000 pixels, renamed .mp4",
           lambda d: png_declaring(12000, 12000), refused="12000×12000 pixels.*4K"),
    Upload("growing.avi", "an AVI saying 16 × 16 whose second and third frames are 6000 × 6000",
           lambda d: mjpeg_avi(d, [_jpeg(16, 16), _jpeg(6000, 6000), _jpeg(6000, 6000)]),
           refused="6000×6000 pixels.*4K"),
    Upload("long.avi", "a long video: 3000 small frames", lambda d: opencv_video(d, "long.avi", "MJPG", 3000,
                                                                                  (16, 16), fps=30), frames=3000),
    Upload("uhd_4k.mp4", "a 4K video (3840 × 2160, the largest allowed), 8 frames",
           lambda d: opencv_video(d, "uhd.mp4", "mp4v", 8, (3840, 2160)), frames=8),
    Upload("over_4k.avi", "a 5K video (5120 × 2880), 2 frames",
           lambda d: opencv_video(d, "5k.avi", "MJPG", 2, (5120, 2880)), refused="5120×2880 pixels.*4K"),
    Upload("archive.avi", "a zip archive renamed .avi", _zip, refused=NOT_DECODABLE),
    Upload("too_big.mp4", "21 MiB of zeros, over the upload limit",
           lambda d: bytes(video.MAX_UPLOAD_BYTES + 2**20), refused="limit is 20 MiB"),
)


def write_corpus(directory: Path) -> dict[str, Path]:
    """Every upload of the corpus as a file in `directory`, by name."""
    work = directory / "work"
    work.mkdir(parents=True, exist_ok=True)
    files = {}
    for upload in CORPUS:
        path = directory / upload.name
        path.write_bytes(upload.write(work))
        files[upload.name] = path
    return files
