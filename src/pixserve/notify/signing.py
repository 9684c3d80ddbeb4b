"""Signed, expiring links: ``?expires=<unix time>&signature=<HMAC-SHA256>``.

The signature covers the job id, which image (``result`` or ``preview``) and the expiry, so a
link for one job's preview opens neither another job nor the full-size result, and changing
the expiry breaks it. Keys are derived from ``PIXSERVE_SECRET_KEY`` per purpose, so the link
key is never the key of the webhook secrets.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable

from pixserve.core.errors import LinkError, LinkExpired

#: The images a link can open.
VARIANTS = ("result", "preview")


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose (``"links"``, ``"webhook:<job id>"``) from the service secret."""
    return hmac.new(secret, b"pixserve/" + purpose.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class LinkSigner:
    """Signs and checks links; ``clock`` returns the current unix time (tests move it)."""

    def __init__(self, secret: bytes, *, clock: Callable[[], float] = time.time) -> None:
        if len(secret) < 16:
            raise ValueError("the link secret must be at least 16 bytes")
        self._key = derive_key(secret, "links")
        self._clock = clock

    def now(self) -> int:
        """The current unix time, in whole seconds."""
        return int(self._clock())

    def _signature(self, job_id: str, variant: str, expires: int) -> str:
        message = f"v1:{variant}:{job_id}:{expires}".encode()
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest())

    def sign(self, job_id: str, variant: str, *, ttl_seconds: float) -> tuple[int, str]:
        """``(expires, signature)`` for a link to ``variant`` of the job, valid ``ttl_seconds``."""
        if variant not in VARIANTS:
            raise ValueError(f"unknown link variant {variant!r}")
        expires = self.now() + max(int(ttl_seconds), 1)
        return expires, self._signature(job_id, variant, expires)

    def verify(self, job_id: str, variant: str, expires: str | int, signature: str) -> None:
        """Return if the link is genuine and current; else ``LinkError`` or ``LinkExpired``.

        A changed job id, variant, expiry or signature is ``LinkError`` (403); only a genuine
        link past its expiry is ``LinkExpired`` (410).
        """
        try:
            when = int(expires)
        except (TypeError, ValueError):
            raise LinkError() from None
        expected = self._signature(job_id, variant, when)
        if not hmac.compare_digest(expected.encode(), str(signature).encode()):
            raise LinkError()
        if when < self.now():
            raise LinkExpired()
