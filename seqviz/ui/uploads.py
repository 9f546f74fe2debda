"""The video upload widget the pages share: the formats and the size limit the reader accepts."""

from __future__ import annotations

from typing import Any

from seqviz.vit import video as videos

__all__ = ["video_uploader"]


def video_uploader(container: Any, key: str, built_in: str):
    """A file uploader for one video in `container`, limited to what seqviz.vit.video reads.
    A file cannot live in a URL: the caption says that the page's link reopens `built_in`."""
    limit = videos.MAX_UPLOAD_BYTES // 2**20
    upload = container.file_uploader(f"Upload a video ({', '.join(videos.VIDEO_TYPES)}, at most {limit} MB)",
                                     type=list(videos.VIDEO_TYPES), key=key, max_upload_size=limit)
    container.caption(f"An uploaded video is not part of the page's link; the link reopens {built_in}.")
    return upload
