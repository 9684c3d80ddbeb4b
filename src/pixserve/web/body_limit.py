"""Refuse a request body as soon as it passes the upload limit, while it streams in.

FastAPI parses a multipart form before a route runs, so a route's own check comes after the
whole body was received (spooled to disk). This ASGI middleware counts the bytes as they
arrive, whatever ``Content-Length`` says or whether there is one (chunked): a declared size
over the limit is refused before a byte is read, and a body that grows past it is cut off
there with 413 ``image_too_large``. The limit is ``max_upload_bytes`` plus room for the
form's other fields and boundaries; the route still checks the file itself exactly.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pixserve.core.errors import ImageTooLarge
from pixserve.core.settings import Settings
from pixserve.web.pages import language_of

#: Room for the multipart boundaries and the form's text fields beside the file.
FORM_SLACK_BYTES = 64 * 1024

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class _TooLarge(Exception):
    """The body passed the limit (raised inside ``receive``, caught by the middleware)."""


class BodyLimit:
    """ASGI middleware: 413 once a request body passes ``max_upload_bytes`` (+ form slack)."""

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
            await self._refuse(scope, send, max_upload)
            return

        received = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    over = True
                    raise _TooLarge()
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if over:
                return  # whatever the app makes of the cut-off body: we answer 413 instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not over:
                raise
        if over and not started:
            await self._refuse(scope, send, max_upload)

    async def _refuse(self, scope: Scope, send: Send, max_upload: int) -> None:
        error = ImageTooLarge.over_bytes(max_upload)
        body = json.dumps({"error": error.to_dict(language_of(Request(scope)))}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
