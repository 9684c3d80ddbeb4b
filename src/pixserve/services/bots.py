"""Bot protection: is this submission from a person? A small port and its providers.

A page shows the provider's challenge (a widget), which gives the browser a one-time token;
the submission carries it, and :meth:`BotVerifier.verify` asks the provider, server-side,
whether the token is good before any work is queued. Chosen by ``PIXSERVE_BOT_PROVIDER``:

- ``none`` (the default): no check, no widget, nothing leaves the host;
- ``turnstile``: Cloudflare Turnstile's ``siteverify`` (a form POST of ``secret``,
  ``response`` and ``remoteip``; a JSON answer with ``success`` and ``error-codes``).

It fails closed: when the provider cannot be asked (unreachable, slow past
``bot_timeout_seconds``, an answer that is not its JSON, or its own ``internal-error``),
the submission is refused with 503 ``unavailable`` rather than let through. The check
guards the budget of a paid model; letting every request through whenever the provider
hiccups would make an outage the cheapest way in. A rejected secret is the operator's
mistake, not the visitor's: it is logged as an error and also answered 503.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

from pixserve.core.errors import BotCheckFailed, PixserveError, Unavailable
from pixserve.core.settings import Settings

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

#: Cloudflare's documented siteverify endpoint (``PIXSERVE_BOT_VERIFY_URL`` overrides it).
TURNSTILE_VERIFY_URL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"
#: Where the page loads the Turnstile widget from; the CSP allows this origin only when on.
TURNSTILE_ORIGIN = "https://challenges.cloudflare.com"
#: Turnstile tokens are at most 2048 characters; anything longer is refused unasked.
MAX_TOKEN_LENGTH = 2048
#: ``error-codes`` that mean our configuration is wrong, not the visitor's token.
_CONFIG_ERRORS = frozenset({"missing-input-secret", "invalid-input-secret"})


class BotVerifier(Protocol):
    """Decides whether a submission's challenge token shows a person sent it."""

    def verify(self, token: str | None, remote_ip: str | None) -> None:
        """Return if ``token`` is good; raise :class:`BotCheckFailed` if it is missing or
        refused, :class:`Unavailable` if the provider cannot say."""
        ...


class NoBotCheck:
    """The ``none`` provider: every submission passes."""

    def verify(self, token: str | None, remote_ip: str | None) -> None:
        """Accept everything."""


class TurnstileVerifier:
    """Cloudflare Turnstile's server-side check (``siteverify``)."""

    def __init__(
        self,
        secret: str,
        *,
        url: str = TURNSTILE_VERIFY_URL,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx  # here: a server without the check does not hold it (about 16 MB)

        self.secret = secret
        self.url = url
        self._client = httpx.Client(timeout=timeout, transport=transport)

    def verify(self, token: str | None, remote_ip: str | None) -> None:
        """Ask siteverify about ``token`` (one POST); see the module for what fails how."""
        import httpx

        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise BotCheckFailed()
        form = {"secret": self.secret, "response": token}
        if remote_ip:
            form["remoteip"] = remote_ip
        try:
            answer = self._client.post(self.url, data=form)
            answer.raise_for_status()
            body: Any = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("bot check: turnstile siteverify failed: %s", exc)
            raise Unavailable() from exc
        if not isinstance(body, dict):
            log.warning("bot check: turnstile siteverify answered %r", body)
            raise Unavailable()
        if body.get("success") is True:
            return
        codes = set(body.get("error-codes") or ())
        if codes & _CONFIG_ERRORS:
            log.error("bot check: turnstile refused PIXSERVE_BOT_SECRET (%s)", sorted(codes))
            raise Unavailable()
        if "internal-error" in codes:
            log.warning("bot check: turnstile had an internal error")
            raise Unavailable()
        raise BotCheckFailed()

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()


def make_verifier(settings: Settings) -> BotVerifier:
    """The verifier ``PIXSERVE_BOT_PROVIDER`` names; an incomplete setup is an operator error."""
    if settings.bot_provider == "none":
        return NoBotCheck()
    if settings.bot_provider == "turnstile":
        if not settings.bot_secret or not settings.bot_site_key:
            raise PixserveError(
                "PIXSERVE_BOT_PROVIDER=turnstile needs PIXSERVE_BOT_SECRET and "
                "PIXSERVE_BOT_SITE_KEY"
            )
        return TurnstileVerifier(
            settings.bot_secret,
            url=settings.bot_verify_url,
            timeout=settings.bot_timeout_seconds,
        )
    raise PixserveError(f"unknown PIXSERVE_BOT_PROVIDER {settings.bot_provider!r}")


def widget_origins(settings: Settings) -> tuple[str, ...]:
    """The origins the page must load the provider's widget from (none when off)."""
    return (TURNSTILE_ORIGIN,) if settings.bot_provider == "turnstile" else ()
