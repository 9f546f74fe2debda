"""The video upload widget the pages share: the formats and the size limit the reader accepts."""

from __future__ import annotations

from typing import Any

from seqviz.vit import video as videos

__all__ = ["video_uploader"]


def video_uploader(container: Any, key: str):
    """A file uploader for one video in `container`, limited to what seqviz.vit.video reads."""
    limit = videos.MAX_UPLOAD_BYTES // 2**20
    return container.file_uploader(f"Upload a video ({', '.join(videos.VIDEO_TYPES)}, at most {limit} MB)",
                                   type=list(videos.VIDEO_TYPES), key=key, max_upload_size=limit)
