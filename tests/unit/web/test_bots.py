"""The bot check over the API: submissions with and without a token, what /v1/config tells
the page, and a CSP that names the widget's origin only while the check is on."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from pixserve.core.errors import BotCheckFailed, Unavailable
from pixserve.services import JobService, TranslateService
from pixserve.services.bots import TURNSTILE_ORIGIN
from pixserve.web import AppContext, create_app
from pixserve.web.security import CONTENT_SECURITY_POLICY

GOOD = "good-token"


class FakeVerifier:
    """Accepts GOOD, refuses anything else; ``down`` plays an unreachable provider."""

    def __init__(self) -> None:
        self.calls: list[tuple[str | None, str | None]] = []
        self.down = False

    def verify(self, token: str | None, remote_ip: str | None) -> None:
        self.calls.append((token, remote_ip))
        if self.down:
            raise Unavailable()
        if token != GOOD:
            raise BotCheckFailed()


def make_app(jobs, blobs, catalog, settings):  # type: ignore[no-untyped-def]
    service = JobService(jobs, blobs, catalog, settings)
    ctx = AppContext(
        settings=settings,
        jobs=service,
        translate=TranslateService(service, settings),
        catalog=catalog,
    )
    return create_app(ctx)


@pytest.fixture
def on(settings):  # type: ignore[no-untyped-def]
    return settings.model_copy(
        update={
            "rate_limit": "",
            "bot_provider": "turnstile",
            "bot_secret": "0x-secret",
            "bot_site_key": "0x-site-key",
        }
    )


@pytest.fixture
def fake() -> FakeVerifier:
    return FakeVerifier()


@pytest.fixture
def client(jobs, blobs, catalog, on, fake):  # type: ignore[no-untyped-def]
    app = make_app(jobs, blobs, catalog, on)
    app.state.bot_verifier = fake
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def submit(client, data, path="/v1/jobs", **fields):  # type: ignore[no-untyped-def]
    files = {"file": ("x.jpg", data, "image/jpeg")}
    return client.post(path, files=files, data={"style": "invert", **fields})


def test_a_good_widget_token_is_accepted(client, fake, small_jpeg) -> None:
    r = submit(client, small_jpeg, **{"cf-turnstile-response": GOOD})
    assert r.status_code == 202, r.text
    assert fake.calls == [(GOOD, "testclient")]


def test_api_clients_may_name_it_bot_token(client, small_jpeg) -> None:
    assert submit(client, small_jpeg, bot_token=GOOD).status_code == 202


@pytest.mark.parametrize("fields", [{}, {"cf-turnstile-response": "forged"}, {"bot_token": "x"}])
def test_a_missing_or_bad_token_is_refused_before_any_job(  # type: ignore[no-untyped-def]
    client, jobs, small_jpeg, fields
) -> None:
    for path in ("/v1/jobs", "/v1/translate"):
        r = submit(client, small_jpeg, path, **fields)
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "bot_check_failed"
    assert jobs.queued_count() == 0


def test_the_refusal_is_translated(client, small_jpeg) -> None:
    files = {"file": ("x.jpg", small_jpeg, "image/jpeg")}
    r = client.post(
        "/v1/jobs", files=files, data={"style": "invert"}, headers={"Accept-Language": "es"}
    )
    assert r.status_code == 403
    assert r.json()["error"]["message"].startswith("No hemos podido confirmar")


def test_a_provider_that_cannot_answer_closes_intake(client, fake, small_jpeg) -> None:
    fake.down = True
    r = submit(client, small_jpeg, **{"cf-turnstile-response": GOOD})
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "unavailable"


def test_config_tells_the_page_which_widget(client) -> None:
    assert client.get("/v1/config").json()["bot"] == {
        "provider": "turnstile",
        "site_key": "0x-site-key",
    }


def test_the_csp_allows_the_widget_only_when_on(client, jobs, blobs, catalog, settings) -> None:
    policy = client.get("/").headers["Content-Security-Policy"]
    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    for name in ("script-src", "frame-src", "connect-src"):
        assert directives[name] == f"'self' {TURNSTILE_ORIGIN}", name
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy

    with TestClient(make_app(jobs, blobs, catalog, settings)) as off:
        assert off.get("/").headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert TURNSTILE_ORIGIN not in CONTENT_SECURITY_POLICY
        assert off.get("/v1/config").json()["bot"] is None


def test_off_means_no_check(jobs, blobs, catalog, settings, small_jpeg) -> None:
    off = settings.model_copy(update={"rate_limit": ""})
    with TestClient(make_app(jobs, blobs, catalog, off)) as c:
        assert submit(c, small_jpeg).status_code == 202


def test_the_schema_documents_the_403_and_the_token_fields(client) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/v1/jobs", "/v1/translate"):
        post = schema["paths"][path]["post"]
        assert "403" in post["responses"], path
        ref = post["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
        fields = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
        assert {"cf-turnstile-response", "bot_token"} <= set(fields), path
