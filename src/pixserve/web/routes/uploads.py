"""Reading an uploaded file within the byte limit, without trusting its declared size."""

from __future__ import annotations

from fastapi import Request, UploadFile

from pixserve.core.errors import ImageTooLarge, InvalidRequest
from pixserve.core.i18n import N_
from pixserve.services import Submission

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


async def read_submission(
    request: Request,
    file: UploadFile,
    max_bytes: int,
    *,
    style: str,
    crop: str | None,
    email: str | None,
    webhook_url: str | None,
    lang: str | None,
    accept_language: str | None,
) -> Submission:
    """The fields of ``POST /v1/jobs`` (and ``/v1/translate``) with the file read in.

    The e-mail's language is the ``lang`` field, else the page's language switch (its
    cookie), else ``Accept-Language``.
    """
    return Submission(
        data=await read_upload(file, max_bytes),
        style=style,
        crop=crop,
        email=email,
        webhook_url=webhook_url,
        lang=lang or request.cookies.get("lang"),
        accept_language=accept_language,
    )
