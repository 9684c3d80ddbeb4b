"""Pixels out to the web: JPEG, PNG or WebP, with no metadata at all."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

from pixserve.imaging.formats import ImageFormat

__all__ = ["encode_image"]


def encode_image(
    pixels: np.ndarray, fmt: ImageFormat | str = "jpeg", *, quality: int = 90
) -> bytes:
    """Encode ``(H, W, 3)`` RGB or ``(H, W)`` grey uint8 pixels as JPEG, PNG or WebP.

    The output is plain sRGB carrying no metadata: no EXIF (so no GPS position from an upload
    leaks into a result), no ICC profile, no comments. ``quality`` (1 to 100) applies to JPEG
    and WebP; PNG is lossless. Raises :class:`ValueError` for another format, a bad quality
    or pixels of the wrong shape or type.
    """
    fmt = ImageFormat(fmt)
    if not fmt.can_encode:
        raise ValueError(f"cannot encode {fmt.value}; use jpeg, png or webp")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be between 1 and 100, not {quality}")
    # A fresh image from an array has an empty info dict, so Pillow has no metadata to copy.
    im = Image.fromarray(_checked(pixels))
    out = io.BytesIO()
    im.save(out, fmt.pillow_name, **_save_options(fmt, quality))
    return out.getvalue()


def _checked(pixels: np.ndarray) -> np.ndarray:
    if pixels.dtype != np.uint8:
        raise ValueError(f"pixels must be uint8, not {pixels.dtype}")
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] == 3)):
        raise ValueError(f"pixels must be (H, W, 3) or (H, W), not {pixels.shape}")
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise ValueError("pixels must not be empty")
    return np.ascontiguousarray(pixels)


def _save_options(fmt: ImageFormat, quality: int) -> dict[str, Any]:
    if fmt is ImageFormat.JPEG:
        return {"quality": quality, "optimize": True, "progressive": True, "subsampling": "4:2:0"}
    if fmt is ImageFormat.WEBP:
        return {"quality": quality, "method": 4}
    return {"compress_level": 6}
