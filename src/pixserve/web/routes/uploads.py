"""Reading an uploaded file within the byte limit, without trusting its declared size."""

from __future__ import annotations

from fastapi import UploadFile

from pixserve.core.errors import ImageTooLarge, InvalidRequest
from pixserve.core.i18n import N_

CHUNK = 1024 * 1024


async def read_upload(file: UploadFile, max_bytes: int) -> bytes:
    """The file's bytes; ``image_too_large`` as soon as it passes ``max_bytes``."""
    parts: list[bytes] = []
    size = 0
    while chunk := await file.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise ImageTooLarge.over_bytes(max_bytes)
        parts.append(chunk)
    if size == 0:
        raise InvalidRequest(N_("The file is empty."))
    return b"".join(parts)
