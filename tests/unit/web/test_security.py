"""Security headers on every answer, CORS only where configured, ``Allow`` on every 405."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from pixserve.web import AppContext, create_app
from pixserve.web.security import CONTENT_SECURITY_POLICY, cors_origins

SITE = "https://photos.example"


def make_client(service, translator, catalog, settings):  # type: ignore[no-untyped-def]
    ctx = AppContext(settings=settings, jobs=service, translate=translator, catalog=catalog)
    return TestClient(create_app(ctx), raise_server_exceptions=False)


@pytest.fixture
def client(service, translator, catalog, settings):  # type: ignore[no-untyped-def]
    with make_client(service, translator, catalog, settings) as c:
        yield c


def test_every_answer_carries_the_security_headers(client) -> None:
    for method, path in (
        ("GET", "/v1/styles"),
        ("GET", "/v1/jobs/nope"),  # an error
        ("GET", "/docs"),
        ("DELETE", "/v1/styles"),  # a 405
        ("GET", "/static/js/main.js"),
    ):
        r = client.request(method, path)
        assert r.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_the_policy_allows_no_inline_script() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_docs_start_swagger_ui_from_a_file(client) -> None:
    html = client.get("/docs").text
    assert '<script src="/static/js/swagger-init.js" data-openapi-url="/openapi.json">' in html
    assert "<script>" not in html  # nothing inline
    assert client.get("/static/js/swagger-init.js").status_code == 200


def test_cors_is_closed_by_default(client) -> None:
    r = client.get("/v1/styles", headers={"Origin": SITE})
    assert "access-control-allow-origin" not in r.headers
    preflight = client.options(
        "/v1/jobs", headers={"Origin": SITE, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_for_the_configured_origins(service, translator, catalog, settings) -> None:
    settings.cors_origins = f"{SITE}/, https://other.example"
    with make_client(service, translator, catalog, settings) as client:
        r = client.get("/v1/styles", headers={"Origin": SITE})
        assert r.headers["access-control-allow-origin"] == SITE
        preflight = client.options(
            "/v1/jobs", headers={"Origin": SITE, "Access-Control-Request-Method": "POST"}
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == SITE
        assert preflight.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        stranger = client.get("/v1/styles", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in stranger.headers


def test_cors_origins_setting() -> None:
    assert cors_origins("") == []
    assert cors_origins(" https://a.example/ ,https://b.example:8443,") == [
        "https://a.example",
        "https://b.example:8443",
    ]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/v1/jobs/abc", "GET, DELETE"),  # two routes, one resource
        ("GET", "/v1/jobs", "POST"),
        ("POST", "/v1/styles", "GET"),
        ("TRACE", "/healthz", "GET"),
        ("POST", "/static/js/main.js", "GET, HEAD"),  # static files
    ],
)
def test_every_405_says_what_is_allowed(client, method, path, allow) -> None:
    r = client.request(method, path)
    assert r.status_code == 405
    assert r.headers["Allow"] == allow
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_answers_other_middleware_write_carry_the_headers_too(
    service, translator, catalog, settings
) -> None:
    settings.max_upload_bytes = 1000
    with make_client(service, translator, catalog, settings) as client:
        r = client.post("/v1/jobs", content=b"x" * 200_000, headers={"Content-Type": "text/plain"})
        assert r.status_code == 413
        assert r.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
