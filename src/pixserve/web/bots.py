"""The bot check of submissions, as a dependency (the port is :mod:`pixserve.services.bots`).

``POST /v1/jobs`` and ``POST /v1/translate`` add :data:`BOT_CHECK` after the rate limits,
so a flood is counted (and refused) before the provider is asked anything. The token is
the form field the Turnstile widget fills in, ``cf-turnstile-response``, or ``bot_token``
for API clients that solved a challenge elsewhere. The visitor's address, as the rate limit
sees it (trusted proxies honoured), goes with it. With ``PIXSERVE_BOT_PROVIDER=none`` the
dependency returns at once and asks nobody.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Depends, FastAPI, Form, Request
from starlette.concurrency import run_in_threadpool

from pixserve.core.settings import Settings
from pixserve.services.bots import BotVerifier, NoBotCheck, make_verifier, widget_origins
from pixserve.web.limits import RateLimiter, rate_limiter
from pixserve.web.schemas import ErrorBody

__all__ = ["BOT_CHECK", "BOT_CHECK_RESPONSE", "check_bot", "install_bot_check", "widget_origins"]

#: The form field Cloudflare's widget adds to its form.
TURNSTILE_FIELD = "cf-turnstile-response"


def install_bot_check(app: FastAPI, settings: Settings) -> None:
    """Build the verifier the settings name (an incomplete setup fails here, at start)."""
    app.state.bot_verifier = make_verifier(settings)


def verifier_of(app: FastAPI) -> BotVerifier:
    """The app's verifier (no check if none was installed)."""
    verifier: BotVerifier = getattr(app.state, "bot_verifier", None) or NoBotCheck()
    return verifier


async def check_bot(
    request: Request,
    turnstile_token: str | None = Form(
        None,
        alias=TURNSTILE_FIELD,
        description="The bot check's token, as the Turnstile widget names it; required "
        "(this or bot_token) when the server has bot protection on (see GET /v1/config).",
    ),
    bot_token: str | None = Form(None, description="The bot check's token, for API clients."),
    limiter: RateLimiter = Depends(rate_limiter),
) -> None:
    """Dependency of the submitting routes: 403 ``bot_check_failed`` unless a person sent it."""
    verifier = verifier_of(request.app)
    if isinstance(verifier, NoBotCheck):
        return
    client = limiter.client_of(request)
    remote_ip = None if client == "unknown" else client
    await run_in_threadpool(verifier.verify, turnstile_token or bot_token, remote_ip)


#: Add to ``dependencies=`` of ``POST /v1/jobs`` and ``POST /v1/translate``.
BOT_CHECK: Sequence[Any] = [Depends(check_bot)]

#: The 403 both routes document.
BOT_CHECK_RESPONSE: dict[int | str, dict[str, object]] = {
    403: {
        "model": ErrorBody,
        "description": "`bot_check_failed`: bot protection is on and the token is missing, "
        "wrong, expired or used already.",
    }
}
