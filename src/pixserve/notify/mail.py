"""Sending e-mail: the ``Mailer`` protocol, SMTP from ``PIXSERVE_SMTP_URL``, and a memory one.

``smtp://host:25`` (plain), ``smtp://user:pass@host:587?starttls=true`` (upgraded with
STARTTLS, and refused if the server cannot), ``smtps://user:pass@host:465`` (TLS from the first
byte). ``?timeout=`` sets the socket timeout in seconds (default 30). User and password are
percent-decoded, so ``%40`` stands for ``@``.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol, runtime_checkable
from urllib.parse import parse_qs, unquote, urlsplit


class MailError(Exception):
    """The message could not be sent (kept on the delivery as its last error)."""


@runtime_checkable
class Mailer(Protocol):
    """Sends one finished message or raises :class:`MailError`."""

    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the mail system; raise ``MailError`` if it was not accepted."""
        ...


_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to reach the SMTP server."""

    host: str
    port: int
    ssl: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0

    @classmethod
    def parse(cls, url: str) -> SmtpConfig:
        """Read an ``smtp://`` or ``smtps://`` URL; ``ValueError`` for anything else."""
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in ("smtp", "smtps"):
            raise ValueError(f"PIXSERVE_SMTP_URL must start with smtp:// or smtps://, got {url!r}")
        if not parts.hostname:
            raise ValueError("PIXSERVE_SMTP_URL has no host")
        query = {k.lower(): v[-1] for k, v in parse_qs(parts.query).items()}
        use_ssl = scheme == "smtps"
        starttls = query.get("starttls", "false").lower() in _TRUE
        if use_ssl and starttls:
            raise ValueError("smtps:// is TLS already; starttls=true is for smtp://")
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if use_ssl else 25),
            ssl=use_ssl,
            starttls=starttls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=float(query.get("timeout", "30")),
        )


class SmtpMailer:
    """A :class:`Mailer` that opens one SMTP connection per message (messages are rare)."""

    def __init__(self, config: SmtpConfig, *, context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self.context = context or ssl.create_default_context()

    def __repr__(self) -> str:
        kind = "smtps" if self.config.ssl else "smtp"
        return f"SmtpMailer({kind}://{self.config.host}:{self.config.port})"

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` to the server; ``MailError`` with the server's reason if not."""
        cfg = self.config
        try:
            smtp: smtplib.SMTP
            if cfg.ssl:
                smtp = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, timeout=cfg.timeout, context=self.context
                )
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
            with smtp:
                smtp.ehlo()
                if cfg.starttls:
                    smtp.starttls(context=self.context)
                    smtp.ehlo()
                if cfg.username:
                    smtp.login(cfg.username, cfg.password or "")
                refused = smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"SMTP {cfg.host}:{cfg.port}: {exc}") from exc
        if refused:
            raise MailError(f"the server refused {', '.join(sorted(refused))}")


class MemoryMailer:
    """A :class:`Mailer` that keeps messages in a list; ``fail_next`` makes sends fail."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.fail_next = 0
        self._lock = threading.Lock()

    def send(self, message: EmailMessage) -> None:
        """Keep ``message``, or raise ``MailError`` while ``fail_next`` is above zero."""
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                raise MailError("the test mailer was told to fail")
            self.sent.append(message)


def open_mailer(smtp_url: str | None) -> Mailer | None:
    """The mailer ``PIXSERVE_SMTP_URL`` names, ``memory://`` for tests, or None if unset."""
    if not smtp_url or not smtp_url.strip():
        return None
    if smtp_url.strip().lower().startswith("memory:"):
        return MemoryMailer()
    return SmtpMailer(SmtpConfig.parse(smtp_url))
