"""A real SMTP server in the test process (aiosmtpd), keeping every message it accepts."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.server import free_port


@dataclass
class Received:
    """One message as the server got it."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class _Handler:
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"


class SmtpSink:
    """The running server: ``port``, ``messages``, and :meth:`wait_for`."""

    def __init__(self, controller: Controller, handler: _Handler) -> None:
        self.controller = controller
        self.handler = handler
        self.port = int(controller.port)

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Wait until at least ``count`` messages arrived; return them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.messages
            if len(got) >= count:
                return got
            time.sleep(0.05)
        raise AssertionError(f"expected {count} messages, got {len(self.messages)}")


def _authenticator(user: str, password: str) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok)

    return check


@contextmanager
def smtp_sink(*, user: str | None = None, password: str | None = None) -> Iterator[SmtpSink]:
    """Run an SMTP server on 127.0.0.1 (requiring AUTH when ``user`` is given)."""
    handler = _Handler()
    kwargs: dict[str, Any] = {}
    if user is not None:
        kwargs.update(
            authenticator=_authenticator(user, password or ""),
            auth_required=True,
            auth_require_tls=False,
        )
    # aiosmtpd waits 5 s for its thread by default: too tight on a busy 2-core machine.
    kwargs["ready_timeout"] = 30.0
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    try:
        yield SmtpSink(controller, handler)
    finally:
        controller.stop()
