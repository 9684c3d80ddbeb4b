"""EXIF orientation: all eight values come back upright, in pixels and in read_size."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from pixserve.imaging import decode_image, read_size
from pixserve.imaging.orientation import apply_orientation, upright_size
from tests.support.images import (
    encode_with_pillow,
    exif_block,
    jpeg_bytes,
    orient,
    pattern,
    png_bytes,
)

LIMITS = {"max_bytes": 10_000_000, "max_pixels": 10_000_000}
ORIENTATIONS = range(1, 9)


def assert_upright(pixels: np.ndarray, tolerance: float = 4.0) -> None:
    reference = pattern()
    assert pixels.shape == reference.shape
    # A wrong flip puts another quadrant colour in place: a mean error in the hundreds.
    error = np.abs(pixels.astype(np.int16) - reference).mean()
    assert error < tolerance, f"mean error {error:.1f}"


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_jpeg_comes_back_upright(orientation: int) -> None:
    data = jpeg_bytes(orient(pattern(), orientation), exif_orientation=orientation)
    assert_upright(decode_image(data, **LIMITS).pixels)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_png_exif_chunk_comes_back_upright(orientation: int) -> None:
    data = png_bytes(orient(pattern(), orientation), exif_orientation=orientation)
    assert_upright(decode_image(data, **LIMITS).pixels, tolerance=1e-9)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_webp_comes_back_upright(orientation: int) -> None:
    stored = orient(pattern(), orientation)
    data = encode_with_pillow(
        stored, "WEBP", lossless=True, exif=exif_block(orientation=orientation)
    )
    assert_upright(decode_image(data, **LIMITS).pixels, tolerance=1e-9)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_read_size_is_upright(orientation: int) -> None:
    data = jpeg_bytes(orient(pattern(), orientation), exif_orientation=orientation)
    assert read_size(data) == (96, 64)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_apply_orientation_matches_pillow(orientation: int) -> None:
    stored = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    im = Image.fromarray(stored)
    exif = im.getexif()
    exif[0x0112] = orientation
    im.info["exif"] = exif.tobytes()
    expected = np.asarray(ImageOps.exif_transpose(im))
    np.testing.assert_array_equal(apply_orientation(stored, orientation), expected)


def test_upright_size_swaps_only_sideways_orientations() -> None:
    assert [upright_size((4, 3), o) for o in ORIENTATIONS] == [(4, 3)] * 4 + [(3, 4)] * 4


@pytest.mark.parametrize("value", [0, 9, 255])
def test_out_of_range_orientation_is_ignored(value: int) -> None:
    data = jpeg_bytes(pattern(), exif_orientation=value)
    assert_upright(decode_image(data, **LIMITS).pixels)
    assert read_size(data) == (96, 64)
