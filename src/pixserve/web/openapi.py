"""The OpenAPI document, saying what a request body really requires.

FastAPI describes an upload form loosely: the file as any string of bytes (an empty one
too), a required text field as any string (though an empty one is refused as missing),
and every optional field as "a string or null" (a form cannot send a null: an absent field
is the null); and it leaves out the 400 that answers a body it cannot read at all. A
client generated from that document, or a fuzzer such as schemathesis, then sends requests
the API refuses. :func:`install_openapi` tightens every request body once, when the
document is first built:

- a file field is bytes (``format: binary``) of at least one byte, of an image type (the
  multipart ``encoding`` names them);
- a required text field has at least one character;
- an optional field is its own type, not "or null";
- a body that cannot be read (broken JSON or multipart) is answered 400, and says so;
- the fields of a submission (``crop``, ``email``, ``webhook_url``, ``lang``) say their
  shape, described here once for every route that takes them (``/v1/jobs``,
  ``/v1/translate``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from pixserve.core.i18n import LANGUAGES

#: The image types an upload may be (the decoder reads the bytes, not the declared type).
IMAGE_TYPES = (
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/avif",
    "image/gif",
    "image/bmp",
    "image/tiff",
)

#: What each submission field looks like, beyond "a string".
SUBMISSION_FIELDS: dict[str, dict[str, Any]] = {
    "crop": {"pattern": r"^[0-9]+,[0-9]+,[0-9]*[1-9][0-9]*,[0-9]*[1-9][0-9]*$"},
    "email": {"format": "email", "maxLength": 254},
    "webhook_url": {"format": "uri", "pattern": "^https?://"},
}

_FORM = "multipart/form-data"


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` return FastAPI's document with every form tightened."""
    build: Callable[[], dict[str, Any]] = app.openapi
    tightened = False

    def openapi() -> dict[str, Any]:
        nonlocal tightened
        schema = build()
        if not tightened:
            tighten_forms(schema)
            tightened = True
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def tighten_forms(schema: dict[str, Any]) -> None:
    """Tighten, in place, every request body of the OpenAPI ``schema``."""
    components = schema.get("components", {}).get("schemas", {})
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            _document_unreadable_body(operation, components)
            media = operation["requestBody"].get("content", {}).get(_FORM)
            if media is None:
                continue
            body = _resolve(media.get("schema", {}), components)
            files = _tighten_body(body)
            if files:
                encoding = media.setdefault("encoding", {})
                for name in files:
                    encoding.setdefault(name, {"contentType": ", ".join(IMAGE_TYPES)})


def _document_unreadable_body(operation: dict[str, Any], components: dict[str, Any]) -> None:
    """A body that cannot be read as its media type (broken JSON, a multipart body without
    its boundary…) is answered 400 before any field is looked at."""
    response: dict[str, Any] = {"description": "The body cannot be read as its media type."}
    if "ErrorBody" in components:
        schema = {"$ref": "#/components/schemas/ErrorBody"}
        response["content"] = {"application/json": {"schema": schema}}
    operation.setdefault("responses", {}).setdefault("400", response)


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        return dict.get(components, ref.rsplit("/", 1)[1], schema)
    return schema


def _tighten_body(body: dict[str, Any]) -> list[str]:
    """Tighten one form's fields; return the names of its file fields."""
    required = set(body.get("required", ()))
    files = []
    for name, field in body.get("properties", {}).items():
        _drop_null(field)
        if _is_file(field):
            field.pop("contentMediaType", None)
            field["format"] = "binary"
            field["minLength"] = 1
            files.append(name)
            continue
        if field.get("type") == "string":
            if name in required:
                field.setdefault("minLength", 1)
            for key, value in SUBMISSION_FIELDS.get(name, {}).items():
                field.setdefault(key, value)
            if name == "lang":
                field.setdefault("enum", list(LANGUAGES))
    return files


def _drop_null(field: dict[str, Any]) -> None:
    """``anyOf: [X, null]`` → X: in a form, null is the field left out."""
    options = field.get("anyOf")
    if not isinstance(options, list):
        return
    kept = [o for o in options if o.get("type") != "null"]
    if len(kept) == 1 and len(kept) < len(options):
        del field["anyOf"]
        for key, value in kept[0].items():
            field.setdefault(key, value)
        if field.get("default", "") is None:
            del field["default"]


def _is_file(field: dict[str, Any]) -> bool:
    return field.get("type") == "string" and (
        field.get("format") == "binary"
        or field.get("contentMediaType") == "application/octet-stream"
    )
