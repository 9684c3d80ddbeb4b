"""Limits on submissions over the API: rate limits (429), pause and budget (503), the
operator's endpoints (404 without a token, 401 with a wrong one), and a paused intake that
lets the queue drain."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from pixserve.domain.job import JobStatus
from pixserve.queue.intake_sql import SqlIntakeStore
from pixserve.services import JobService, TranslateService
from pixserve.services.intake import IntakeService
from pixserve.web import AppContext, create_app
from pixserve.web.limits import RateLimiter
from pixserve.worker import Worker
from tests.support.clock import FakeClock

TOKEN = "s3cret-operator-token"


@pytest.fixture
def limited(settings):  # type: ignore[no-untyped-def]
    return settings.model_copy(update={"rate_limit": "", "admin_token": TOKEN})


@pytest.fixture
def intake(jobs, limited, sqlite_url):  # type: ignore[no-untyped-def]
    store = SqlIntakeStore(sqlite_url)  # beside the jobs, in the same database
    # The budget counts per UTC clock hour: a test run across the hour's end would see its
    # count start again. The intake's clock stands still in the middle of an hour.
    yield IntakeService(
        store, jobs, limited, clock=FakeClock(datetime(2026, 6, 1, 12, 30, tzinfo=UTC))
    )
    store.close()


@pytest.fixture
def app_ctx(jobs, blobs, catalog, limited, intake):  # type: ignore[no-untyped-def]
    service = JobService(jobs, blobs, catalog, limited, intake=intake)
    return AppContext(
        settings=limited,
        jobs=service,
        translate=TranslateService(service, limited),
        catalog=catalog,
        intake=intake,
    )


@pytest.fixture
def client(app_ctx):  # type: ignore[no-untyped-def]
    with TestClient(create_app(app_ctx), raise_server_exceptions=False) as c:
        yield c


def submit(client, data, **headers):  # type: ignore[no-untyped-def]
    files = {"file": ("x.jpg", data, "image/jpeg")}
    return client.post("/v1/jobs", files=files, data={"style": "invert"}, headers=headers)


def error_code(response):  # type: ignore[no-untyped-def]
    return response.json()["error"]["code"]


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_rate_limit_answers_429_with_retry_after(client, app_ctx, small_jpeg) -> None:  # type: ignore[no-untyped-def]
    app_ctx.settings.rate_limit = "2/minute"
    assert submit(client, small_jpeg).status_code == 202
    assert submit(client, small_jpeg).status_code == 202
    refused = submit(client, small_jpeg)
    assert refused.status_code == 429, refused.text
    assert error_code(refused) == "rate_limited"
    assert 0 < int(refused.headers["retry-after"]) <= 60
    spanish = submit(client, small_jpeg, **{"Accept-Language": "es"})
    assert spanish.json()["error"]["message"].startswith("Demasiadas")
    translate = client.post(
        "/v1/translate", files={"file": ("x.jpg", small_jpeg)}, data={"style": "invert"}
    )
    assert translate.status_code == 429


def post_raw(app, receive, *, client: str, lang: str = "en") -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """POST /v1/jobs straight to the ASGI app, the body from ``receive``; what it sent."""
    sent: list[dict[str, object]] = []

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/jobs",
        "raw_path": b"/v1/jobs",
        "query_string": b"",
        "headers": [
            (b"content-type", b"multipart/form-data; boundary=b"),
            (b"accept-language", lang.encode()),
        ],
        "client": (client, 5000),
        "server": ("testserver", 80),
        "scheme": "http",
        "root_path": "",
        "http_version": "1.1",
    }
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 5))
    return sent


def test_a_refused_submission_is_answered_before_its_body_is_read(app_ctx) -> None:  # type: ignore[no-untyped-def]
    # A flood of large uploads: each refused on its headers, not after 20 MB were received.
    app_ctx.settings.rate_limit = "1/minute"
    app = create_app(app_ctx)
    reads: list[int] = []

    async def receive():  # type: ignore[no-untyped-def]
        reads.append(1)
        return {"type": "http.request", "body": b"x" * 65536, "more_body": True}

    post_raw(app, receive, client="203.0.113.7")  # within the rate: read (and refused)
    assert reads
    reads.clear()
    refused = post_raw(app, receive, client="203.0.113.7")
    assert refused[0]["status"] == 429 and reads == []
    assert any(name == b"retry-after" for name, _ in refused[0]["headers"])  # type: ignore[union-attr]


def test_a_body_that_trickles_in_past_the_upload_timeout_gets_408(app_ctx) -> None:  # type: ignore[no-untyped-def]
    app_ctx.settings.upload_timeout_seconds = 0.3
    chunks = 0

    async def receive():  # type: ignore[no-untyped-def]
        nonlocal chunks
        chunks += 1
        if chunks > 1:
            await asyncio.sleep(3600)  # the client stopped sending
        head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n\r\n'
        return {"type": "http.request", "body": head + b"\xff\xd8" * 100, "more_body": True}

    sent = post_raw(create_app(app_ctx), receive, client="203.0.113.8", lang="es")
    assert sent[0]["status"] == 408
    error = json.loads(sent[1]["body"])["error"]  # type: ignore[arg-type]
    assert error["code"] == "request_timeout" and "segundos" in error["message"]


def test_the_client_is_the_peer_unless_the_proxy_is_trusted() -> None:
    open_limiter = RateLimiter("1/minute")
    assert open_limiter.client("203.0.113.9", "198.51.100.1") == "203.0.113.9"
    proxied = RateLimiter("1/minute", trusted="10.0.0.0/8, 127.0.0.1")
    assert proxied.client("10.1.2.3", "198.51.100.1, 10.0.0.7") == "198.51.100.1"
    assert proxied.client("10.1.2.3", "6.6.6.6, 198.51.100.1") == "198.51.100.1"  # no spoofing
    assert proxied.client("203.0.113.9", "198.51.100.1") == "203.0.113.9"
    proxied.hit("a")
    with pytest.raises(Exception, match="Too many"):
        proxied.hit("a")
    proxied.hit("b")
    assert RateLimiter("").items == []


def test_pause_refuses_new_jobs_while_the_queue_drains(  # type: ignore[no-untyped-def]
    client, jobs, blobs, renderer, limited, small_jpeg
) -> None:
    queued = [submit(client, small_jpeg).json()["id"] for _ in range(3)]
    assert client.post("/v1/admin/pause", headers=bearer()).json()["paused"] is True

    refused = submit(client, small_jpeg)
    assert refused.status_code == 503 and error_code(refused) == "paused"
    assert int(refused.headers["retry-after"]) > 0
    config = client.get("/v1/config").json()
    assert config["intake"] == {"open": False, "reason": "paused", "retry_after_seconds": None}

    worker = Worker(jobs, blobs, renderer, limited)
    while worker.run_once():
        pass
    assert [jobs.get(i).status for i in queued] == [JobStatus.SUCCEEDED] * 3  # type: ignore[union-attr]

    client.post("/v1/admin/resume", headers=bearer())
    assert client.get("/v1/config").json()["intake"]["open"] is True
    assert submit(client, small_jpeg).status_code == 202


def test_budget_refuses_with_its_code_and_drains(  # type: ignore[no-untyped-def]
    client, app_ctx, jobs, blobs, renderer, limited, small_jpeg
) -> None:
    app_ctx.settings.budget_per_hour = 2
    first = [submit(client, small_jpeg).json()["id"] for _ in range(2)]
    refused = submit(client, small_jpeg)
    assert refused.status_code == 503 and error_code(refused) == "budget_exhausted"
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    intake = client.get("/v1/config").json()["intake"]
    assert intake["open"] is False and intake["reason"] == "budget_exhausted"
    assert 0 < intake["retry_after_seconds"] <= 3600
    worker = Worker(jobs, blobs, renderer, limited)
    while worker.run_once():
        pass
    assert all(jobs.get(i).status is JobStatus.SUCCEEDED for i in first)  # type: ignore[union-attr]
    stats = client.get("/v1/admin/stats", headers=bearer()).json()
    assert stats["budget"]["used_this_hour"] == 2
    assert stats["hours"][-1]["accepted"] == 2


def test_queue_per_style_is_503_queue_full(client, app_ctx, small_jpeg) -> None:  # type: ignore[no-untyped-def]
    app_ctx.settings.max_queue_per_style = 1
    assert submit(client, small_jpeg).status_code == 202
    refused = submit(client, small_jpeg)
    assert refused.status_code == 503 and error_code(refused) == "queue_full"
    assert refused.headers["retry-after"]


def test_admin_needs_the_token(client, app_ctx) -> None:  # type: ignore[no-untyped-def]
    missing = client.get("/v1/admin/stats")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    wrong = client.get("/v1/admin/stats", headers=bearer("nope"))
    assert wrong.status_code == 401 and error_code(wrong) == "unauthorized"
    assert client.post("/v1/admin/pause", headers={"Authorization": TOKEN}).status_code == 401
    stats = client.get("/v1/admin/stats", headers=bearer()).json()
    assert set(stats) == {"queue", "hours", "intake", "budget"}
    page = client.get("/admin")
    assert page.status_code == 200 and "/static/js/admin.js" in page.text
    assert "<script>" not in page.text  # no inline script (CSP)

    app_ctx.settings.admin_token = None
    assert client.get("/v1/admin/stats", headers=bearer()).status_code == 404
    assert client.post("/v1/admin/pause", headers=bearer()).status_code == 404
    assert client.get("/admin").status_code == 404


def test_a_declared_body_over_the_limit_is_refused_unread(client, app_ctx) -> None:  # type: ignore[no-untyped-def]
    app_ctx.settings.max_upload_bytes = 1000
    big = b"x" * 200_000
    response = client.post(
        "/v1/jobs", content=big, headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert response.status_code == 413 and error_code(response) == "image_too_large"

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(50):
            yield b"y" * 10_000

    chunked = client.post(
        "/v1/jobs", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert chunked.status_code == 413 and error_code(chunked) == "image_too_large"
