"""Calling webhooks: the ``WebhookSender`` protocol, one over HTTP and one in memory.

``HttpWebhookSender`` checks the target again on every try (DNS may have changed), connects
to a checked address itself (TLS still verifies the host name), never follows redirects (a
3xx counts as a failure), and reads at most a little of the answer.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from pixserve.core.errors import WebhookRefused
from pixserve.notify.targets import Resolver, Target, check_target, system_resolver

USER_AGENT = "pixserve-webhooks/1"


class WebhookError(Exception):
    """The call did not get a 2xx answer (kept on the delivery as its last error)."""


@runtime_checkable
class WebhookSender(Protocol):
    """POSTs one signed JSON body or raises :class:`WebhookError`."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        """Send ``body`` with ``headers``; raise ``WebhookError`` unless answered 2xx."""
        ...


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(
        self, target: Target, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


class HttpWebhookSender:
    """A :class:`WebhookSender` over ``http.client``, with the SSRF rules of ``targets``."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout: float = 10.0,
        resolver: Resolver = system_resolver,
        context: ssl.SSLContext | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.timeout = timeout
        self.resolver = resolver
        self.context = context or ssl.create_default_context()

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        """POST ``body`` to ``url`` at a checked address; ``WebhookError`` unless 2xx."""
        try:
            target = check_target(url, allow_private=self.allow_private, resolver=self.resolver)
        except WebhookRefused as exc:
            raise WebhookError(exc.message) from None
        last: Exception | None = None
        for address in target.addresses:
            conn: http.client.HTTPConnection
            if target.scheme == "https":
                conn = _PinnedHTTPS(target, address, self.timeout, self.context)
            else:
                conn = _PinnedHTTP(target, address, self.timeout)
            try:
                conn.request(
                    "POST",
                    target.path,
                    body=body,
                    headers={
                        "Content-Type": "application/json",
                        "User-Agent": USER_AGENT,
                        **headers,
                    },
                )
                response = conn.getresponse()
                response.read(65536)
            except (OSError, http.client.HTTPException) as exc:
                last = exc
                continue
            finally:
                conn.close()
            if 200 <= response.status < 300:
                return
            if 300 <= response.status < 400:
                raise WebhookError(f"HTTP {response.status} redirect (redirects are not followed)")
            raise WebhookError(f"HTTP {response.status} {response.reason}".strip())
        raise WebhookError(f"cannot reach {target.host}:{target.port}: {last}")


@dataclass
class MemoryWebhookSender:
    """A :class:`WebhookSender` for unit tests: records calls, fails the first ``fail_next``."""

    calls: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)
    fail_next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        """Record the call, or raise ``WebhookError`` while ``fail_next`` is above zero."""
        with self._lock:
            self.calls.append((url, body, dict(headers)))
            if self.fail_next > 0:
                self.fail_next -= 1
                raise WebhookError("HTTP 500 (the test sender was told to fail)")
