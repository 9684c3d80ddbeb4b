"""Error bodies: a stable code, and a message in the request's language."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from pixserve.web import AppContext, create_app

NOT_AN_IMAGE = b"just some text, renamed .jpg\n" * 10
UNSUPPORTED_ES = (
    "Este archivo no es una imagen que pixserve pueda leer (JPEG, PNG, WebP, AVIF, GIF, BMP, TIFF)."
)


@pytest.fixture
def client(service, translator, catalog, settings):  # type: ignore[no-untyped-def]
    ctx = AppContext(settings=settings, jobs=service, translate=translator, catalog=catalog)
    with TestClient(create_app(ctx), raise_server_exceptions=False) as c:
        yield c


def submit_text_file(client, **kw):  # type: ignore[no-untyped-def]
    files = {"file": ("notes.jpg", NOT_AN_IMAGE, "image/jpeg")}
    return client.post("/v1/jobs", files=files, data={"style": "invert"}, **kw)


def error(response) -> dict:  # type: ignore[no-untyped-def]
    return response.json()["error"]


def test_english_by_default(client) -> None:
    response = submit_text_file(client)
    assert response.status_code == 415
    assert error(response) == {
        "code": "unsupported_image",
        "message": "This file is not an image pixserve can read "
        "(JPEG, PNG, WebP, AVIF, GIF, BMP, TIFF).",
    }


def test_spanish_from_accept_language(client) -> None:
    response = submit_text_file(client, headers={"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"})
    assert response.status_code == 415
    assert error(response) == {"code": "unsupported_image", "message": UNSUPPORTED_ES}


def test_spanish_from_the_cookie(client) -> None:
    client.cookies.set("lang", "es")
    response = submit_text_file(client, headers={"Accept-Language": "en"})
    assert error(response) == {"code": "unsupported_image", "message": UNSUPPORTED_ES}
    # ?lang= wins over the cookie.
    response = client.get("/v1/jobs/nope", params={"lang": "en"})
    assert error(response)["message"] == "There is no job with this id (it may have been deleted)."


def test_every_kind_of_error_is_translated(client) -> None:
    es = {"Accept-Language": "es"}
    missing = client.get("/v1/jobs/nope", headers=es)
    assert missing.status_code == 404
    assert error(missing) == {
        "code": "job_not_found",
        "message": "No hay ningún trabajo con este identificador (puede que se haya borrado).",
    }
    invalid = client.post("/v1/jobs", data={"style": "invert"}, headers=es)
    assert invalid.status_code == 422 and error(invalid)["code"] == "invalid_request"
    assert error(invalid)["message"].startswith("La solicitud no es válida: file:")
    no_route = client.get("/v1/nothing-here", headers=es)
    assert error(no_route) == {"code": "not_found", "message": "No se ha encontrado."}
    wrong_method = client.put("/v1/styles", headers=es)
    assert error(wrong_method) == {
        "code": "method_not_allowed",
        "message": "Este método no está permitido aquí.",
    }


def test_values_go_into_the_translated_message(client, settings) -> None:
    small = settings.model_copy(update={"max_upload_bytes": int(1.5 * 2**20)})
    ctx = AppContext(
        settings=small,
        jobs=client.app.state.ctx.jobs,
        translate=client.app.state.ctx.translate,
        catalog=client.app.state.ctx.catalog,
    )
    files = {"file": ("big.jpg", b"\xff" * 2**21, "image/jpeg")}
    with TestClient(create_app(ctx), raise_server_exceptions=False) as c:
        response = c.post(
            "/v1/jobs", files=files, data={"style": "invert"}, headers={"Accept-Language": "es"}
        )
    assert response.status_code == 413
    assert error(response) == {
        "code": "image_too_large",
        "message": "El archivo supera el límite de 1,5 MB.",
    }
