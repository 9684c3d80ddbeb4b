"""Previews, signed links and their friendly refusals; /privacy and /v1/config."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from pixserve.domain import JobStatus
from pixserve.notify import LinkSigner
from pixserve.services import JobService
from pixserve.services.links import ResultLinks
from pixserve.web import AppContext, create_app
from pixserve.worker import Worker


class Clock:
    now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app_settings(settings):  # type: ignore[no-untyped-def]
    return settings.model_copy(update={"result_ttl_hours": 10_000.0, "link_ttl_hours": 1.0})


@pytest.fixture
def client(jobs, blobs, catalog, translator, app_settings, clock):  # type: ignore[no-untyped-def]
    links = ResultLinks(LinkSigner(b"web-test-secret-0123456789", clock=clock), app_settings, blobs)
    service = JobService(jobs, blobs, catalog, app_settings, links=links, email_enabled=True)
    ctx = AppContext(
        settings=app_settings,
        jobs=service,
        translate=translator,
        catalog=catalog,
        email_enabled=True,
    )
    with TestClient(create_app(ctx), raise_server_exceptions=False) as c:
        yield c


def finished(client, jobs, blobs, renderer, settings, small_jpeg, *, preview: bool) -> dict:  # type: ignore[no-untyped-def]
    renderer.preview_side = 2 if preview else None
    response = client.post(
        "/v1/jobs", files={"file": ("x.jpg", small_jpeg, "image/jpeg")}, data={"style": "invert"}
    )
    assert response.status_code == 202, response.text
    assert Worker(jobs, blobs, renderer, settings).run_once()
    return client.get(response.json()["status_url"]).json()


def test_a_style_with_a_preview_serves_full_size_only_by_signed_link(
    client, jobs, blobs, renderer, settings, small_jpeg, clock
) -> None:
    body = finished(client, jobs, blobs, renderer, settings, small_jpeg, preview=True)
    assert body["status"] == "succeeded"
    preview = client.get(body["preview_url"])
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"
    plain = client.get(f"/v1/jobs/{body['id']}/result")
    assert plain.status_code == 403 and plain.json()["error"]["code"] == "link_required"
    signed = body["result_url"]
    assert "signature=" in signed
    assert client.get(signed).status_code == 200

    tampered = signed.replace("expires=", "expires=1")
    html = client.get(tampered, headers={"Accept": "text/html,*/*"})
    assert html.status_code == 403 and "This link does not work" in html.text
    api = client.get(tampered, headers={"Accept": "application/json"})
    assert api.json()["error"]["code"] == "link_invalid"

    clock.now += 3601
    late = client.get(signed, headers={"Accept": "text/html", "Accept-Language": "es"})
    assert late.status_code == 410 and "Este enlace ha caducado" in late.text
    assert client.get(signed).json()["error"]["code"] == "link_expired"


def test_without_a_preview_the_id_is_enough(
    client, jobs, blobs, renderer, settings, small_jpeg
) -> None:
    body = finished(client, jobs, blobs, renderer, settings, small_jpeg, preview=False)
    assert body["preview_url"] is None
    assert body["result_url"] == f"/v1/jobs/{body['id']}/result"
    assert client.get(body["result_url"]).status_code == 200
    assert client.get(f"/v1/jobs/{body['id']}/preview").status_code == 409
    jobs.transition(body["id"], JobStatus.SUCCEEDED, JobStatus.EXPIRED)
    gone = client.get(body["result_url"])
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "result_expired"


def test_submit_picks_the_language_and_checks_contacts(client, jobs, small_jpeg) -> None:
    def post(headers: dict[str, str] | None = None, **fields: str):  # type: ignore[no-untyped-def]
        return client.post(
            "/v1/jobs",
            files={"file": ("x.jpg", small_jpeg, "image/jpeg")},
            data={"style": "invert", **fields},
            headers=headers or {},
        )

    es = post({"Accept-Language": "es-AR,es;q=0.9"}, email="ana@example.org").json()
    assert jobs.get(es["id"]).lang == "es"
    en = post({"Accept-Language": "es"}, email="ana@example.org", lang="en").json()
    assert jobs.get(en["id"]).lang == "en"
    refused = post(webhook_url="http://169.254.169.254/latest/meta-data")
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "webhook_refused"
    bad = post(email="not an address")
    assert bad.json()["error"]["code"] == "invalid_email"


def test_email_is_refused_where_no_smtp_is_configured(service, small_jpeg) -> None:
    from pixserve.core.errors import EmailUnavailable
    from pixserve.services import Submission

    with pytest.raises(EmailUnavailable):
        service.submit(Submission(data=small_jpeg, style="invert", email="a@b.co"))


def test_privacy_page_and_config_state_the_settings(client) -> None:
    config = client.get("/v1/config").json()
    assert config["email"] is True and config["languages"] == ["en", "es"]
    assert config["retention"] == {
        "delete_originals": True,
        "result_ttl_hours": 10_000.0,
        "record_ttl_hours": 168.0,
        "link_ttl_hours": 1.0,
    }
    page = client.get("/privacy")
    assert page.status_code == 200
    assert "deleted as soon as your picture is finished" in page.text
    assert "10000 hours after it was finished" in page.text
    assert "7 days after the job finished" in page.text
    assert "stop working after 1 hour" in page.text
    assert '<html lang="en">' in page.text
    assert "<strong>Your photo</strong>" in page.text  # the catalogue's markup, not escaped


@pytest.mark.parametrize(
    "how",
    [
        {"headers": {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}},
        {"cookies": {"lang": "es"}},
        {"params": {"lang": "es"}, "headers": {"Accept-Language": "en"}},
    ],
)
def test_privacy_page_in_spanish(client, how) -> None:  # type: ignore[no-untyped-def]
    cookies = how.get("cookies", {})
    for name, value in cookies.items():
        client.cookies.set(name, value)
    page = client.get("/privacy", params=how.get("params"), headers=how.get("headers"))
    assert page.status_code == 200
    assert '<html lang="es">' in page.text
    assert "Qué guardamos y durante cuánto tiempo" in page.text
    assert "<strong>Tu foto</strong> se borra en cuanto tu imagen está terminada" in page.text
    assert "se borra 10000 horas después de terminarse" in page.text
    assert "7 días después de que termine el trabajo" in page.text
    assert "dejan de funcionar al cabo de 1 hora" in page.text
    assert "What we keep" not in page.text
    assert "Accept-Language" in page.headers["vary"]


def test_the_link_page_speaks_the_cookies_language(client) -> None:  # type: ignore[no-untyped-def]
    client.cookies.set("lang", "es")
    page = client.get("/v1/jobs/j/result?expires=1&signature=bad", headers={"Accept": "text/html"})
    assert page.status_code == 403
    assert '<html lang="es">' in page.text and "Este enlace no funciona" in page.text
    assert "Crear una imagen nueva" in page.text
