"""encode_image: three formats out, no metadata, bad arguments refused."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from pixserve.imaging import ImageFormat, decode_image, encode_image, sniff_format
from tests.support.images import jpeg_bytes, pattern, photo, png_bytes, rgb_icc_profile

LIMITS = {"max_bytes": 10_000_000, "max_pixels": 10_000_000}
ENCODABLE = [ImageFormat.JPEG, ImageFormat.PNG, ImageFormat.WEBP]


def mean_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.mark.parametrize("fmt", ENCODABLE)
def test_round_trip(fmt: ImageFormat) -> None:
    source = photo("astronaut")
    data = encode_image(source, fmt, quality=95)
    assert sniff_format(data) is fmt
    decoded = decode_image(data, **LIMITS).pixels
    if fmt is ImageFormat.PNG:
        np.testing.assert_array_equal(decoded, source)
    else:
        assert mean_error(decoded, source) < 4


def test_default_is_jpeg() -> None:
    assert sniff_format(encode_image(pattern())) is ImageFormat.JPEG


@pytest.mark.parametrize("name", ["jpeg", "JPG", "png", "webp"])
def test_format_may_be_a_string(name: str) -> None:
    assert sniff_format(encode_image(pattern(), name)) is ImageFormat(name)


def test_jpeg_is_progressive_and_420() -> None:
    im = Image.open(io.BytesIO(encode_image(photo("chelsea"), "jpeg")))
    assert im.info.get("progressive")
    assert JpegImagePlugin.get_sampling(im) == 2  # 4:2:0


def test_quality_changes_the_size() -> None:
    source = photo("chelsea")
    assert len(encode_image(source, "jpeg", quality=30)) < len(encode_image(source, "jpeg"))


@pytest.mark.parametrize("fmt", ENCODABLE)
def test_grey_pixels_are_accepted(fmt: ImageFormat) -> None:
    grey = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (32, 1))
    decoded = decode_image(encode_image(grey, fmt, quality=100), **LIMITS).pixels
    assert decoded.shape == (32, 64, 3)
    assert mean_error(decoded[..., 1], grey) < 2


def test_non_contiguous_pixels_are_accepted() -> None:
    flipped = pattern()[:, ::-1]
    decoded = decode_image(encode_image(flipped, "png"), **LIMITS).pixels
    np.testing.assert_array_equal(decoded, flipped)


@pytest.mark.parametrize("fmt", ENCODABLE)
def test_no_metadata_survives(fmt: ImageFormat) -> None:
    upload = jpeg_bytes(photo("chelsea"), exif_orientation=6, gps=True)
    assert b"Exif" in upload and Image.open(io.BytesIO(upload)).getexif()  # the test can fail
    data = encode_image(decode_image(upload, **LIMITS).pixels, fmt)
    im = Image.open(io.BytesIO(data))
    assert not im.getexif()
    assert b"Exif" not in data
    assert b"GPS" not in data
    assert "icc_profile" not in im.info


def test_icc_profile_of_the_upload_is_not_copied() -> None:
    upload = png_bytes(pattern(), icc_profile=rgb_icc_profile())
    data = encode_image(decode_image(upload, **LIMITS).pixels, "png")
    assert "icc_profile" not in Image.open(io.BytesIO(data)).info
    assert b"iCCP" not in data


@pytest.mark.parametrize("fmt", ["avif", "gif", "bmp", "tiff", "heic", ""])
def test_other_formats_are_refused(fmt: str) -> None:
    with pytest.raises(ValueError):
        encode_image(pattern(), fmt)


@pytest.mark.parametrize("quality", [0, 101, -5])
def test_quality_out_of_range_is_refused(quality: int) -> None:
    with pytest.raises(ValueError):
        encode_image(pattern(), "jpeg", quality=quality)


@pytest.mark.parametrize(
    "pixels",
    [
        pytest.param(np.zeros((8, 8, 3), np.float32), id="float"),
        pytest.param(np.zeros((8, 8, 4), np.uint8), id="rgba"),
        pytest.param(np.zeros((8,), np.uint8), id="1d"),
        pytest.param(np.zeros((0, 8, 3), np.uint8), id="empty"),
    ],
)
def test_bad_pixels_are_refused(pixels: np.ndarray) -> None:
    with pytest.raises(ValueError):
        encode_image(pixels, "png")


def test_jpeg_is_progressive_420_with_the_colours_in_place() -> None:
    from PIL import JpegImagePlugin

    rgb = photo("astronaut")[::4, ::4]  # red suit, blue flag: a channel swap would show
    data = encode_image(rgb, "jpeg", quality=90)
    im = Image.open(io.BytesIO(data))
    assert im.info.get("progressive") or im.info.get("progression")
    assert JpegImagePlugin.get_sampling(im) == 2  # 4:2:0
    decoded = np.asarray(im.convert("RGB")).astype(int)
    error = np.abs(decoded - rgb.astype(int)).mean()
    swapped = np.abs(decoded - rgb[..., ::-1].astype(int)).mean()
    assert error < 6 and error < swapped / 4
    grey = Image.open(io.BytesIO(encode_image(rgb[..., 1], "jpeg")))
    assert grey.mode == "L" and grey.size == (rgb.shape[1], rgb.shape[0])
