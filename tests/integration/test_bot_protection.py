"""Bot protection end to end: a real ``pixserve serve`` with ``PIXSERVE_BOT_PROVIDER=turnstile``
checking tokens against a local server that speaks Turnstile's siteverify (a form POST of
``secret``, ``response``, ``remoteip``; JSON ``success`` and ``error-codes``)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from pixserve.client import Client, PixserveClientError
from tests.support.images import jpeg_bytes
from tests.support.server import ServerProcess
from tests.support.turnstile import GOOD, SECRET, SITE_KEY, Provider, SiteVerify


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    p = Provider()
    p.start()
    try:
        yield p
    finally:
        if p.server is not None:
            p.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, provider: Provider) -> Iterator[ServerProcess]:
    env = {
        "PIXSERVE_BOT_PROVIDER": "turnstile",
        "PIXSERVE_BOT_SECRET": SECRET,
        "PIXSERVE_BOT_SITE_KEY": SITE_KEY,
        "PIXSERVE_BOT_VERIFY_URL": provider.url,
        # Generous: the provider runs in this busy process; one that is down refuses at once.
        "PIXSERVE_BOT_TIMEOUT_SECONDS": "10",
    }
    proc = ServerProcess(tmp_path_factory.mktemp("bots"), env=env).start()
    try:
        yield proc
    finally:
        assert proc.terminate(), proc.log()


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def tiny() -> bytes:
    rng = np.random.default_rng(2)
    return jpeg_bytes(rng.integers(0, 255, (32, 48, 3), dtype=np.uint8))


def post(http: httpx.Client, path: str, **fields: str) -> httpx.Response:
    data = {"style": "cartoon", **fields}
    return http.post(path, files={"file": ("p.jpg", tiny(), "image/jpeg")}, data=data)


def test_the_good_token_is_checked_with_the_provider_and_accepted(http, provider):
    SiteVerify.seen.clear()
    response = post(http, "/v1/jobs", **{"cf-turnstile-response": GOOD})
    assert response.status_code == 202, response.text
    assert SiteVerify.seen == [{"secret": [SECRET], "response": [GOOD], "remoteip": ["127.0.0.1"]}]
    assert post(http, "/v1/translate", bot_token=GOOD).status_code == 200


def test_the_python_client_sends_its_bot_token(server, provider):
    with Client(server.url) as pix:
        assert pix.translate(tiny(), "cartoon", bot_token=GOOD)[:2] == b"\xff\xd8"  # a JPEG
        with pytest.raises(PixserveClientError) as refused:
            pix.submit(tiny(), "cartoon")
    assert refused.value.code == "bot_check_failed"


@pytest.mark.parametrize("fields", [{}, {"cf-turnstile-response": "forged"}])
def test_a_missing_or_bad_token_is_refused(http, fields):
    for path in ("/v1/jobs", "/v1/translate"):
        response = post(http, path, **fields)
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "bot_check_failed"


def test_the_page_gets_the_site_key_and_may_load_the_widget(http):
    assert http.get("/v1/config").json()["bot"] == {"provider": "turnstile", "site_key": SITE_KEY}
    policy = http.get("/").headers["content-security-policy"]
    assert "script-src 'self' https://challenges.cloudflare.com" in policy
    assert "frame-src 'self' https://challenges.cloudflare.com" in policy


def test_with_the_provider_down_submissions_fail_closed(http, provider):
    provider.stop()
    try:
        response = post(http, "/v1/jobs", **{"cf-turnstile-response": GOOD})
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "unavailable"
    finally:
        provider.start()
    assert post(http, "/v1/jobs", **{"cf-turnstile-response": GOOD}).status_code == 202
