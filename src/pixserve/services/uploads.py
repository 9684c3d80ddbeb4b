"""Decoding an upload with the service's limits: one place for what every use case that takes
an image (submit, translate, faces) accepts, so all refuse a bad file with the same code."""

from __future__ import annotations

from pixserve.core.settings import Settings
from pixserve.imaging import CheckedImage, DecodedImage, check_image, decode_image


def decode_upload(data: bytes, settings: Settings, *, fit: int | None = None) -> DecodedImage:
    """Decode ``data`` (upright by EXIF) within ``max_upload_bytes`` and ``max_pixels``,
    or raise the matching ``ImageError`` (``unsupported_image``, ``corrupt_image``,
    ``image_too_large``); with ``fit``, shrunk to that longer side (:func:`decode_image`)."""
    return decode_image(
        data, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_pixels, fit=fit
    )


def check_upload(data: bytes, settings: Settings) -> CheckedImage:
    """Refuse ``data`` as :func:`decode_upload` would, more cheaply, keeping no pixels: for
    a use case that stores the upload and leaves the decoding to a worker."""
    return check_image(data, max_bytes=settings.max_upload_bytes, max_pixels=settings.max_pixels)
