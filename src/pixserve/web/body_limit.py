"""Refuse a request body as soon as it passes the upload limit, while it streams in.

FastAPI parses a multipart form before a route runs, so a route's own check comes after the
whole body was received (spooled to disk). This ASGI middleware counts the bytes as they
arrive, whatever ``Content-Length`` says or whether there is one (chunked): a declared size
over the limit is refused before a byte is read, and a body that grows past it is cut off
there with 413 ``image_too_large``. The limit is ``max_upload_bytes`` plus room for the
form's other fields and boundaries; the route still checks the file itself exactly.

A body must also arrive within ``upload_timeout_seconds``, or the request gets 408
``request_timeout``: a client trickling bytes (by accident or to hold connections open)
does not keep its connection and its half-read form for ever.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pixserve.core.errors import ImageTooLarge, PixserveError, RequestTimeout
from pixserve.core.settings import Settings
from pixserve.web.errors import pixserve_error_response

#: Room for the multipart boundaries and the form's text fields beside the file.
FORM_SLACK_BYTES = 64 * 1024

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class _Refused(Exception):
    """The body passed the limit or its time (raised inside ``receive``, caught below)."""


class BodyLimit:
    """ASGI middleware: 413 once a request body passes ``max_upload_bytes`` (+ form slack),
    408 once it has taken longer than ``upload_timeout_seconds``."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings  # read per request: the limit is the settings' of the moment

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        max_upload = self.settings.max_upload_bytes
        max_body = max_upload + FORM_SLACK_BYTES
        declared = _content_length(scope)
        if declared is not None and declared > max_body:
            await _refuse(scope, receive, send, ImageTooLarge.over_bytes(max_upload))
            return

        loop = asyncio.get_running_loop()
        timeout = self.settings.upload_timeout_seconds
        deadline = loop.time() + timeout
        received = 0
        complete = False  # the whole body is in: later receives wait for a disconnect
        refusal: PixserveError | None = None
        started = False

        async def counted() -> Message:
            nonlocal received, complete, refusal
            if complete:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                refusal = RequestTimeout.after(round(timeout))
                raise _Refused() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > max_body:
                    refusal = ImageTooLarge.over_bytes(max_upload)
                    raise _Refused()
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if refusal is not None:
                return  # whatever the app makes of the cut-off body: we answer instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if refusal is None:
                raise
        if refusal is not None and not started:
            await _refuse(scope, receive, send, refusal)


async def _refuse(scope: Scope, receive: Receive, send: Send, error: PixserveError) -> None:
    """Answer ``error`` and close the connection (the rest of the body is not read)."""
    response = pixserve_error_response(error, Request(scope))
    response.headers["connection"] = "close"
    await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
