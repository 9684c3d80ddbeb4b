"""Limits on submissions: per-client rate limits and the intake check, before the body.

:class:`SubmissionGate`, an ASGI middleware, checks ``POST /v1/jobs`` and ``POST
/v1/translate`` on their headers: a flood of large uploads is refused before each body is
received and parsed (FastAPI reads a form before a route's dependencies run). A client is
its IP address: the peer's, or — only when the peer is one of
``trusted_proxies`` — the nearest untrusted address in ``X-Forwarded-For``. Counts live in
``rate_limit_storage`` (``memory://`` per process, or a ``redis://`` URL shared by every web
node), through the ``limits`` library's moving-window limiter. Over the limit: 429
``rate_limited`` with ``Retry-After``.

The intake check (pause, budget) runs here too, so a closed intake answers before the
service decodes anything; the service checks again when it counts the job.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time

from fastapi import FastAPI, Request
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from pixserve.core.errors import PixserveError, RateLimited
from pixserve.core.settings import Settings
from pixserve.web.context import AppContext
from pixserve.web.errors import pixserve_error_response

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class RateLimiter:
    """Per-client limits on submissions (``"30/minute;500/day"``); empty: none."""

    def __init__(self, rate: str, storage_url: str = "memory://", trusted: str = "") -> None:
        self.items: list[RateLimitItem] = parse_many(rate) if rate.strip() else []
        self._limiter = (
            MovingWindowRateLimiter(storage_from_string(storage_url)) if self.items else None
        )
        self.trusted: list[Network] = [
            ipaddress.ip_network(p.strip(), strict=False) for p in trusted.split(",") if p.strip()
        ]

    @classmethod
    def of(cls, settings: Settings) -> RateLimiter:
        """The limiter the settings describe; a bad rate string is an operator error."""
        try:
            return cls(settings.rate_limit, settings.rate_limit_storage, settings.trusted_proxies)
        except ValueError as exc:
            raise PixserveError(f"PIXSERVE_RATE_LIMIT or TRUSTED_PROXIES: {exc}") from exc

    def client(self, peer: str | None, forwarded_for: str | None) -> str:
        """The client's address: the peer, or behind trusted proxies the first one not
        trusted, reading ``X-Forwarded-For`` from the right (the left end is the client's
        own claim)."""
        address = peer or "unknown"
        if not forwarded_for or not self._is_trusted(address):
            return address
        for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
            address = hop
            if not self._is_trusted(hop):
                break
        return address

    def client_of(self, request: Request) -> str:
        """:meth:`client` of ``request``: its peer and its ``X-Forwarded-For``."""
        peer = request.client.host if request.client else None
        return self.client(peer, request.headers.get("x-forwarded-for"))

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.trusted)

    def hit(self, client: str) -> None:
        """Count one submission from ``client``; ``RateLimited`` if a limit is passed."""
        if self._limiter is None:
            return
        for item in self.items:
            if not self._limiter.hit(item, "submit", client):
                stats = self._limiter.get_window_stats(item, "submit", client)
                raise RateLimited(retry_after=math.ceil(stats.reset_time - time.time()))

    def reset(self) -> None:
        """Forget every count (tests)."""
        if self._limiter is not None:
            self._limiter.storage.reset()


_LOCK = threading.Lock()


def limiter_of(app: FastAPI) -> RateLimiter:
    """The app's limiter, built from its settings on first use."""
    with _LOCK:
        limiter: RateLimiter | None = getattr(app.state, "rate_limiter", None)
        if limiter is None:
            limiter = app.state.rate_limiter = RateLimiter.of(app.state.ctx.settings)
    return limiter


async def rate_limiter(request: Request) -> RateLimiter:
    """The app's limiter, as a dependency (the bot check names the client the same way);
    ``async``, so FastAPI calls it on the event loop, not through a thread."""
    return limiter_of(request.app)


#: The routes that create jobs.
SUBMISSION_PATHS = frozenset({"/v1/jobs", "/v1/translate"})


class SubmissionGate:
    """ASGI middleware: intake open and the client within its rate, or 503/429 at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] in SUBMISSION_PATHS
        ):
            request = Request(scope)
            try:
                await _check(request, request.app.state.ctx, limiter_of(request.app))
            except PixserveError as exc:
                await pixserve_error_response(exc, request)(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _check(request: Request, ctx: AppContext, limiter: RateLimiter) -> None:
    """Intake open (pause, budget), then one more submission counted for this client."""
    if ctx.intake is not None:
        await run_in_threadpool(ctx.intake.check)
    if limiter.items:
        await run_in_threadpool(limiter.hit, limiter.client_of(request))
