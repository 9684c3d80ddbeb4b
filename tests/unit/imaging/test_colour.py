"""Every Pillow pixel mode becomes the right 8-bit sRGB colour."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from pixserve.imaging import decode_image
from pixserve.imaging.colour import composite_over_white, to_srgb
from tests.support.images import (
    SRGB_PRIMARIES,
    encode_with_pillow,
    pattern,
    photo,
    png16_bytes,
    png_bytes,
    rgb_icc_profile,
)

LIMITS = {"max_bytes": 10_000_000, "max_pixels": 10_000_000}


def decode(data: bytes) -> np.ndarray:
    return decode_image(data, **LIMITS).pixels


def saved(im: Image.Image, pillow_format: str, **options: object) -> bytes:
    out = io.BytesIO()
    im.save(out, pillow_format, **options)
    return out.getvalue()


# --- CMYK ------------------------------------------------------------------------------

CMYK_SWATCHES = [
    ((0, 0, 0, 0), (255, 255, 255)),
    ((255, 0, 0, 0), (0, 255, 255)),
    ((0, 255, 0, 0), (255, 0, 255)),
    ((0, 0, 255, 0), (255, 255, 0)),
    ((0, 0, 0, 255), (0, 0, 0)),
]


@pytest.mark.parametrize(("cmyk", "rgb"), CMYK_SWATCHES)
@pytest.mark.parametrize("pillow_format", ["JPEG", "TIFF"])
def test_cmyk_becomes_rgb(pillow_format: str, cmyk: tuple[int, ...], rgb: tuple[int, ...]) -> None:
    # Pillow writes CMYK JPEGs the Adobe way (inverted), and reads them back the same way.
    data = saved(Image.new("CMYK", (32, 16), cmyk), pillow_format, quality=100)
    assert np.abs(decode(data).astype(int) - rgb).max() <= 3


# --- high bit depths -------------------------------------------------------------------

LEVELS_16 = np.array([[0, 1000, 257, 32896, 40000, 65535]], dtype=np.uint16)
LEVELS_8 = np.array([[0, 4, 1, 128, 156, 255]], dtype=np.uint8)  # round(v / 257)


def test_16_bit_grey_png_is_scaled_not_clipped() -> None:
    pixels = decode(png16_bytes(LEVELS_16))
    np.testing.assert_array_equal(pixels[..., 0], LEVELS_8)
    assert (pixels[..., 0] == pixels[..., 2]).all()


def test_16_bit_rgb_png_is_scaled_not_clipped() -> None:
    values = np.stack([LEVELS_16, LEVELS_16[:, ::-1], LEVELS_16], axis=-1)
    expected = np.stack([LEVELS_8, LEVELS_8[:, ::-1], LEVELS_8], axis=-1)
    # Pillow keeps the high byte of 16-bit RGB: within one level of exact rounding.
    assert np.abs(decode(png16_bytes(values)).astype(int) - expected).max() <= 1


@pytest.mark.parametrize(("mode", "dtype"), [("I;16", "<u2"), ("I;16L", "<u2"), ("I;16B", ">u2")])
def test_16_bit_modes_are_scaled(mode: str, dtype: str) -> None:
    height, width = LEVELS_16.shape
    im = Image.frombytes(mode, (width, height), LEVELS_16.astype(dtype).tobytes())
    rgb, had_alpha = to_srgb(im)
    np.testing.assert_array_equal(rgb[..., 1], LEVELS_8)
    assert had_alpha is False


def test_16_bit_tiff_is_scaled() -> None:
    data = encode_with_pillow(LEVELS_16, "TIFF")
    np.testing.assert_array_equal(decode(data)[..., 0], LEVELS_8)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([0, 100, 255], [0, 100, 255], id="8-bit-range"),
        pytest.param([0, 257, 65535], [0, 1, 255], id="16-bit-range"),
        pytest.param([-1000, 0, 1000], [0, 128, 255], id="stretched"),
    ],
)
def test_32_bit_integer_mode(values: list[int], expected: list[int]) -> None:
    im = Image.fromarray(np.array([values], dtype=np.int32))
    assert im.mode == "I"
    np.testing.assert_array_equal(to_srgb(im)[0][..., 0], [expected])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([0.0, 0.5, 1.0], [0, 128, 255], id="unit-range"),
        pytest.param([0.0, float("nan"), 1.0], [0, 0, 255], id="nan"),
        pytest.param([-2.0, 0.0, 2.0], [0, 128, 255], id="stretched"),
    ],
)
def test_float_mode(values: list[float], expected: list[int]) -> None:
    im = Image.fromarray(np.array([values], dtype=np.float32))
    assert im.mode == "F"
    np.testing.assert_array_equal(to_srgb(im)[0][..., 0], [expected])


# --- grey, 1-bit, palette, alpha -------------------------------------------------------


def test_grey_is_replicated_to_three_channels() -> None:
    grey = np.array([[0, 77, 200, 255]], dtype=np.uint8)
    pixels = decode(png_bytes(grey))
    assert pixels.shape == (1, 4, 3)
    for channel in range(3):
        np.testing.assert_array_equal(pixels[..., channel], grey)


def test_one_bit_is_black_and_white() -> None:
    im = Image.fromarray(np.array([[0, 255, 0, 255]], dtype=np.uint8)).convert("1")
    pixels = decode(saved(im, "PNG"))
    np.testing.assert_array_equal(pixels[..., 0], [[0, 255, 0, 255]])


def palette_image_with_transparent_index() -> Image.Image:
    im = Image.new("P", (4, 1))
    im.putpalette([0, 0, 0, 200, 10, 10, 10, 200, 10] + [0] * (256 * 3 - 9))
    im.putdata([0, 1, 2, 0])
    im.info["transparency"] = 0
    return im


@pytest.mark.parametrize("pillow_format", ["PNG", "GIF"])
def test_palette_transparency_becomes_white(pillow_format: str) -> None:
    decoded = decode_image(saved(palette_image_with_transparent_index(), pillow_format), **LIMITS)
    assert decoded.had_alpha is True
    np.testing.assert_array_equal(
        decoded.pixels[0], [(255, 255, 255), (200, 10, 10), (10, 200, 10), (255, 255, 255)]
    )


def test_palette_without_transparency_has_no_alpha() -> None:
    im = palette_image_with_transparent_index()
    del im.info["transparency"]
    decoded = decode_image(saved(im, "PNG"), **LIMITS)
    assert decoded.had_alpha is False
    np.testing.assert_array_equal(decoded.pixels[0, 0], (0, 0, 0))


def test_grey_with_alpha_is_composited_over_white() -> None:
    la = np.array([[[100, 0], [100, 255], [100, 128]]], dtype=np.uint8)
    decoded = decode_image(saved(Image.fromarray(la, "LA"), "PNG"), **LIMITS)
    assert decoded.had_alpha is True
    # 100 * 128/255 + 255 * 127/255 = 177.7
    np.testing.assert_array_equal(decoded.pixels[0, :, 0], [255, 100, 177])
    assert (decoded.pixels[..., 0] == decoded.pixels[..., 2]).all()


@pytest.mark.parametrize("pillow_format", ["PNG", "WEBP", "TIFF"])
def test_rgba_is_composited_over_white(pillow_format: str) -> None:
    rgba = np.array([[[255, 0, 0, 0], [255, 0, 0, 255], [255, 0, 0, 128]]], dtype=np.uint8)
    decoded = decode_image(encode_with_pillow(rgba, pillow_format, lossless=True), **LIMITS)
    assert decoded.had_alpha is True
    np.testing.assert_array_equal(
        decoded.pixels[0], [(255, 255, 255), (255, 0, 0), (255, 127, 127)]
    )


def test_png_colour_key_becomes_white() -> None:
    rgb = np.array([[[1, 2, 3], [200, 100, 50]]], dtype=np.uint8)
    decoded = decode_image(png_bytes(rgb, transparency=(1, 2, 3)), **LIMITS)
    assert decoded.had_alpha is True
    np.testing.assert_array_equal(decoded.pixels[0], [(255, 255, 255), (200, 100, 50)])


def test_composite_over_white_is_exact_at_the_ends() -> None:
    rgb = np.array([[[10, 20, 30]] * 3], dtype=np.uint8)
    alpha = np.array([[0, 255, 51]], dtype=np.uint8)
    out = composite_over_white(rgb, alpha)
    np.testing.assert_array_equal(out[0], [(255, 255, 255), (10, 20, 30), (206, 208, 210)])


# --- ICC profiles ----------------------------------------------------------------------

RED, GREEN, BLUE = SRGB_PRIMARIES


@pytest.mark.parametrize("pillow_format", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_embedded_profile_is_converted_to_srgb(pillow_format: str) -> None:
    # A profile that declares the first channel green: pure "red" pixels are sRGB green.
    swapped = rgb_icc_profile((GREEN, RED, BLUE))
    source = np.zeros((16, 16, 3), np.uint8)
    source[..., 0] = 200
    pixels = decode(encode_with_pillow(source, pillow_format, icc_profile=swapped, quality=100))
    red, green, blue = pixels.reshape(-1, 3).mean(axis=0)
    assert red < 10 and blue < 10
    assert 180 < green < 220


def test_srgb_profile_changes_little() -> None:
    source = photo("coffee")
    data = png_bytes(source, icc_profile=rgb_icc_profile(SRGB_PRIMARIES))
    difference = np.abs(decode(data).astype(int) - source)
    assert difference.mean() < 3  # gamma 2.2 against the sRGB curve: close, not identical


def test_grey_profile_on_grey_pixels_falls_back_softly() -> None:
    # An RGB profile on grey pixels cannot be applied; the pixels are shown as they are.
    grey = np.full((4, 4), 90, np.uint8)
    pixels = decode(png_bytes(grey, icc_profile=rgb_icc_profile()))
    assert (pixels == 90).all()


@pytest.mark.parametrize("profile", [b"not an icc profile", b"\x00" * 200])
def test_broken_profile_is_ignored(profile: bytes) -> None:
    source = pattern()
    pixels = decode(png_bytes(source, icc_profile=profile))
    np.testing.assert_array_equal(pixels, source)
