"""A request id on every request: taken from ``X-Request-ID`` when sane, else made here.

ASGI middleware, added outermost in ``web/app.py``: it sets
:data:`pixserve.core.logs.request_id` for the life of the request, so every log line written
while serving it (uvicorn's access line included) carries the id, and it returns the id in
the response's ``X-Request-ID`` header, so a client or a proxy can quote it. A given id is
kept when it is 1–128 characters of letters, digits and ``-_.:/+=@`` (what proxies and
tracing systems send), otherwise — absent, too long, or with anything that could forge a log
line — a fresh one is made (32 hex digits).
"""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pixserve.core import logs

HEADER = "X-Request-ID"
_RAW_HEADER = HEADER.lower().encode("latin-1")
_SANE = re.compile(r"[A-Za-z0-9\-_.:/+=@]{1,128}")


def new_request_id() -> str:
    """A fresh request id."""
    return uuid.uuid4().hex


def sane_request_id(value: str | None) -> str | None:
    """``value`` if it can be used as a request id as it is, else None."""
    if value is None or not _SANE.fullmatch(value):
        return None
    return value


class RequestId:
    """ASGI middleware: a request id in the logging context and the response header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope.get("headers", ()):
            if name == _RAW_HEADER:
                given = sane_request_id(value.decode("latin-1"))
                break
        rid = given or new_request_id()
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers[HEADER] = rid
            await send(message)

        token = logs.request_id.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            logs.request_id.reset(token)
