"""Hooks for schemathesis runs against pixserve (``SCHEMATHESIS_HOOKS``).

The OpenAPI document says an upload is an image (``encoding: contentType: image/…``); a
JSON Schema cannot say "bytes a decoder reads". These strategies give schemathesis small
real images of each type Pillow writes, so its positive cases are requests the API should
accept, and its negative cases (random bytes) ones it should refuse.
"""

from __future__ import annotations

import io

import schemathesis
from hypothesis import strategies as st
from PIL import Image

#: Media type → Pillow format, for the types of ``web/openapi.py``'s IMAGE_TYPES it writes.
FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/gif": "GIF",
    "image/bmp": "BMP",
    "image/tiff": "TIFF",
}


def _encode(fmt: str, size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def images(fmt: str) -> st.SearchStrategy[bytes]:
    """Small one-colour pictures in ``fmt``, 8 to 96 pixels a side."""
    sides = st.integers(min_value=8, max_value=96)
    channel = st.integers(min_value=0, max_value=255)
    return st.builds(
        _encode, st.just(fmt), st.tuples(sides, sides), st.tuples(channel, channel, channel)
    )


for media_type, pillow_format in FORMATS.items():
    schemathesis.openapi.media_type(media_type, images(pillow_format))


@schemathesis.hook
def filter_case(context: schemathesis.HookContext, case: schemathesis.Case) -> bool:
    """Drop a positive case whose form leaves a field empty.

    Schemathesis 4.32 builds the coverage phase's form bodies with a custom-encoded part
    ("Multipart body with custom encoding") by filling every other required field with ""
    whatever its schema says, and reuses that body for the operation's query variants. Our
    forms' text fields all have ``minLength: 1`` (``web/openapi.py``), so such a case is not
    schema-valid and a refusal of it is no finding. Negative cases are kept.
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return True
    return all(value != "" for value in case.body.values())
