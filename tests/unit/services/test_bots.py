"""The Turnstile verifier against a fake siteverify (httpx.MockTransport): what it sends,
what each answer means, and that it fails closed when the provider cannot say."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import httpx
import pytest

from pixserve.core.errors import BotCheckFailed, PixserveError, Unavailable
from pixserve.core.settings import Settings
from pixserve.services.bots import (
    TURNSTILE_ORIGIN,
    TURNSTILE_VERIFY_URL,
    NoBotCheck,
    TurnstileVerifier,
    make_verifier,
    widget_origins,
)

SECRET = "0x-test-secret"
GOOD = "good-token"


def siteverify(seen: list[dict[str, list[str]]]) -> httpx.MockTransport:
    """A fake siteverify: success for GOOD with the right secret, else its error codes."""

    def handle(request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        seen.append(form)
        if form.get("secret") != [SECRET]:
            return httpx.Response(
                200, json={"success": False, "error-codes": ["invalid-input-secret"]}
            )
        if form.get("response") != [GOOD]:
            return httpx.Response(
                200, json={"success": False, "error-codes": ["invalid-input-response"]}
            )
        return httpx.Response(200, json={"success": True, "error-codes": []})

    return httpx.MockTransport(handle)


def verifier(transport: httpx.BaseTransport, secret: str = SECRET) -> TurnstileVerifier:
    return TurnstileVerifier(secret, transport=transport, timeout=1.0)


def test_a_good_token_passes_and_the_form_says_who_asked() -> None:
    seen: list[dict[str, list[str]]] = []
    verifier(siteverify(seen)).verify(GOOD, "203.0.113.7")
    assert seen == [{"secret": [SECRET], "response": [GOOD], "remoteip": ["203.0.113.7"]}]


def test_the_address_is_left_out_when_unknown() -> None:
    seen: list[dict[str, list[str]]] = []
    verifier(siteverify(seen)).verify(GOOD, None)
    assert "remoteip" not in seen[0]


def test_a_refused_token_is_a_bot_check_failure() -> None:
    with pytest.raises(BotCheckFailed) as caught:
        verifier(siteverify([])).verify("forged", "203.0.113.7")
    assert caught.value.code == "bot_check_failed" and caught.value.http_status == 403


@pytest.mark.parametrize("token", [None, "", "x" * 2049])
def test_a_missing_or_oversized_token_is_refused_without_asking(token: str | None) -> None:
    seen: list[dict[str, list[str]]] = []
    with pytest.raises(BotCheckFailed):
        verifier(siteverify(seen)).verify(token, "203.0.113.7")
    assert seen == []


def test_a_wrong_secret_is_our_fault_not_the_visitors() -> None:
    with pytest.raises(Unavailable) as caught:
        verifier(siteverify([]), secret="wrong").verify(GOOD, None)
    assert caught.value.code == "unavailable" and caught.value.http_status == 503


def refusing(exc: Exception) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(
    "transport",
    [
        refusing(httpx.ConnectError("connection refused")),
        refusing(httpx.ReadTimeout("slow")),
        httpx.MockTransport(lambda r: httpx.Response(502, text="bad gateway")),
        httpx.MockTransport(lambda r: httpx.Response(200, text="<html>not json</html>")),
        httpx.MockTransport(lambda r: httpx.Response(200, content=json.dumps([1]).encode())),
        httpx.MockTransport(
            lambda r: httpx.Response(
                200, json={"success": False, "error-codes": ["internal-error"]}
            )
        ),
    ],
    ids=["down", "timeout", "502", "not-json", "not-an-object", "internal-error"],
)
def test_it_fails_closed_when_the_provider_cannot_say(transport: httpx.MockTransport) -> None:
    with pytest.raises(Unavailable):
        verifier(transport).verify(GOOD, "203.0.113.7")


def test_the_setting_chooses_the_provider(tmp_path) -> None:  # type: ignore[no-untyped-def]
    off = Settings(data_dir=tmp_path)
    assert isinstance(make_verifier(off), NoBotCheck)
    assert widget_origins(off) == ()
    NoBotCheck().verify(None, None)  # lets everything through
    on = Settings(
        data_dir=tmp_path, bot_provider="turnstile", bot_secret=SECRET, bot_site_key="0x-site"
    )
    chosen = make_verifier(on)
    assert isinstance(chosen, TurnstileVerifier) and chosen.url == TURNSTILE_VERIFY_URL
    assert widget_origins(on) == (TURNSTILE_ORIGIN,)
    with pytest.raises(PixserveError, match="PIXSERVE_BOT_SECRET"):
        make_verifier(Settings(data_dir=tmp_path, bot_provider="turnstile"))
