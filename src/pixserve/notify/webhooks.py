"""Webhook signatures in the Standard Webhooks format (https://www.standardwebhooks.com).

Every call carries ``webhook-id`` (the same on every retry of one event), ``webhook-timestamp``
(unix seconds of this try) and ``webhook-signature: v1,<base64 HMAC-SHA256>`` over
``"<id>.<timestamp>.<body>"``, keyed with the base64-decoded part of a ``whsec_…`` secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from pixserve.notify.signing import derive_key

SECRET_PREFIX = "whsec_"


def job_webhook_secret(service_secret: bytes, job_id: str) -> str:
    """The ``whsec_…`` secret of one job's webhooks, derived so nothing needs storing."""
    key = derive_key(service_secret, f"webhook:{job_id}")
    return SECRET_PREFIX + base64.b64encode(key).decode("ascii")


def _key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one call."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(
    secret: str, msg_id: str, body: bytes, *, now: float | None = None
) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``, timestamped ``now``."""
    timestamp = int(time.time() if now is None else now)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: dict[str, str],
    body: bytes,
    *,
    tolerance_seconds: float = 300.0,
    now: float | None = None,
) -> bool:
    """Whether ``headers`` sign ``body`` with ``secret`` and the timestamp is recent.

    The receiver's side (the docs show the same in a few lines). Header names are matched
    case-insensitively; any of several space-separated ``v1,`` signatures may match.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id = lower["webhook-id"]
        timestamp = int(lower["webhook-timestamp"])
        signatures = lower["webhook-signature"].split()
    except (KeyError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    expected = sign(secret, msg_id, timestamp, body)
    return any(hmac.compare_digest(expected, s) for s in signatures)
