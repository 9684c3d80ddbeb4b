"""The OpenAPI document says what a request really requires (web/openapi.py)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from pixserve.web import AppContext, create_app
from pixserve.web.openapi import IMAGE_TYPES


@pytest.fixture
def document(service, translator, catalog, settings) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    ctx = AppContext(settings=settings, jobs=service, translate=translator, catalog=catalog)
    with TestClient(create_app(ctx)) as client:
        return dict(client.get("/openapi.json").json())


def form(document: dict[str, Any], path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    media = document["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]
    name = media["schema"]["$ref"].rsplit("/", 1)[1]
    return media, document["components"]["schemas"][name]


@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/translate", "/v1/faces"])
def test_an_upload_is_a_non_empty_image(document, path) -> None:
    media, body = form(document, path)
    assert "file" in body["required"]
    assert body["properties"]["file"] == {
        **body["properties"]["file"],
        "type": "string",
        "format": "binary",
        "minLength": 1,
    }
    assert media["encoding"]["file"]["contentType"] == ", ".join(IMAGE_TYPES)
    assert "400" in document["paths"][path]["post"]["responses"]  # an unreadable body


@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/translate"])
def test_submission_fields_say_their_shape(document, path) -> None:
    _, body = form(document, path)
    fields = body["properties"]
    assert fields["style"]["minLength"] == 1  # an empty style is a missing one
    for name in ("crop", "email", "webhook_url", "lang"):
        assert "anyOf" not in fields[name], name  # a form sends no null
        assert fields[name]["type"] == "string"
    assert fields["crop"]["pattern"].startswith("^[0-9]+,")
    assert fields["email"]["format"] == "email"
    assert fields["lang"]["enum"] == ["en", "es"]


def test_styles_take_a_size_both_or_neither(document) -> None:
    (size,) = document["paths"]["/v1/styles"]["get"]["parameters"]
    assert size["in"] == "query" and size["style"] == "form" and size["explode"] is True
    assert size["schema"]["required"] == ["width", "height"]


def test_link_errors_are_documented(document) -> None:
    for path in ("/v1/jobs/{job_id}/result", "/v1/jobs/{job_id}/preview"):
        assert {"403", "404", "410"} <= set(document["paths"][path]["get"]["responses"])
    assert "404" in document["paths"]["/v1/styles/{name}/thumbnail"]["get"]["responses"]
