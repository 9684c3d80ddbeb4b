"""decode_image, check_image and read_size: every format in, limits and damaged files refused
cleanly, and the same verdict from the cheap check as from the full decode."""

from __future__ import annotations

import io
import resource
import time
from collections.abc import Callable

import cv2
import numpy as np
import pytest
from PIL import Image, ImageFile, JpegImagePlugin

from pixserve.core.errors import CorruptImage, ImageTooLarge, PixserveError, UnsupportedImage
from pixserve.imaging import DecodedImage, ImageFormat, check_image, decode_image, read_size
from tests.support.images import (
    bomb_png,
    encode_with_pillow,
    jpeg_bytes,
    pattern,
    photo,
    png_bytes,
    truncated_jpeg,
)

LIMITS = {"max_bytes": 10_000_000, "max_pixels": 10_000_000}


def mean_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        (ImageFormat.PNG, {}),
        (ImageFormat.WEBP, {"lossless": True}),
        (ImageFormat.BMP, {}),
        (ImageFormat.TIFF, {}),
        (ImageFormat.TIFF, {"compression": "tiff_lzw"}),
    ],
)
def test_lossless_formats_round_trip_exactly(fmt: ImageFormat, options: dict[str, object]) -> None:
    source = photo("chelsea")
    decoded = decode_image(encode_with_pillow(source, fmt.pillow_name, **options), **LIMITS)
    assert decoded.format is fmt
    assert decoded.had_alpha is False
    np.testing.assert_array_equal(decoded.pixels, source)


@pytest.mark.parametrize(
    ("fmt", "options", "tolerance"),
    [
        (ImageFormat.JPEG, {"quality": 95}, 3.0),
        (ImageFormat.WEBP, {"quality": 95}, 4.0),
        (ImageFormat.AVIF, {"quality": 95}, 4.0),
    ],
)
def test_lossy_formats_round_trip_closely(
    fmt: ImageFormat, options: dict[str, object], tolerance: float
) -> None:
    source = photo("astronaut")
    decoded = decode_image(encode_with_pillow(source, fmt.pillow_name, **options), **LIMITS)
    assert decoded.format is fmt
    assert decoded.pixels.shape == source.shape
    assert mean_error(decoded.pixels, source) < tolerance


def test_gif_round_trips_its_palette_colours() -> None:
    data = encode_with_pillow(photo("coffee"), "GIF")
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    decoded = decode_image(data, **LIMITS)
    assert decoded.format is ImageFormat.GIF
    np.testing.assert_array_equal(decoded.pixels, expected)


@pytest.mark.parametrize("pillow_format", ["GIF", "WEBP"])
def test_animation_keeps_the_first_frame(pillow_format: str) -> None:
    frames = [Image.new("RGB", (32, 16), colour) for colour in ("red", "lime", "blue")]
    out = io.BytesIO()
    frames[0].save(out, pillow_format, save_all=True, append_images=frames[1:], lossless=True)
    pixels = decode_image(out.getvalue(), **LIMITS).pixels
    assert pixels.shape == (16, 32, 3)
    assert (pixels == (255, 0, 0)).all()


def test_result_is_contiguous_uint8_rgb() -> None:
    decoded = decode_image(jpeg_bytes(pattern(), exif_orientation=6), **LIMITS)
    assert isinstance(decoded, DecodedImage)
    assert decoded.pixels.dtype == np.uint8
    assert decoded.pixels.ndim == 3 and decoded.pixels.shape[2] == 3
    assert decoded.pixels.flags.c_contiguous
    assert decoded.size == (64, 96)  # (w, h) after turning upright


def test_decoded_image_is_frozen() -> None:
    decoded = decode_image(png_bytes(pattern()), **LIMITS)
    with pytest.raises(AttributeError):
        decoded.had_alpha = True  # type: ignore[misc]


# --- limits ---------------------------------------------------------------------------


def test_byte_limit_comes_first_and_names_the_limit() -> None:
    with pytest.raises(ImageTooLarge) as caught:
        decode_image(b"x" * 3 * 2**20, max_bytes=2 * 2**20, max_pixels=10**9)
    assert caught.value.code == "image_too_large"
    assert "2 MB" in caught.value.message


def test_image_exactly_at_the_limits_is_accepted() -> None:
    data = png_bytes(pattern())
    decoded = decode_image(data, max_bytes=len(data), max_pixels=96 * 64)
    assert decoded.size == (96, 64)


def test_pixel_limit_names_size_and_limit() -> None:
    with pytest.raises(ImageTooLarge) as caught:
        decode_image(png_bytes(pattern()), max_bytes=10**7, max_pixels=96 * 64 - 1)
    assert "96×64" in caught.value.message
    assert "limit" in caught.value.message


def test_decompression_bomb_is_refused_from_its_header() -> None:
    data = bomb_png(20_000, 20_000)
    assert len(data) < 100_000
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    started = time.perf_counter()
    with pytest.raises(ImageTooLarge) as caught:
        decode_image(data, max_bytes=10**7, max_pixels=50_000_000)
    assert time.perf_counter() - started < 1.0
    # Decoding would need 400 MB (1.2 GB as RGB); the peak may not grow by a fraction of it.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 100_000
    assert "20000×20000" in caught.value.message
    assert "50 megapixels" in caught.value.message


def test_limits_leave_pillow_globals_alone() -> None:
    max_image_pixels = Image.MAX_IMAGE_PIXELS
    with pytest.raises(ImageTooLarge):
        decode_image(bomb_png(20_000, 20_000), max_bytes=10**7, max_pixels=1_000_000)
    decode_image(png_bytes(pattern()), **LIMITS)
    assert max_image_pixels == Image.MAX_IMAGE_PIXELS
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_read_size_of_a_bomb_is_cheap() -> None:
    started = time.perf_counter()
    assert read_size(bomb_png(30_000, 20_000)) == (30_000, 20_000)
    assert time.perf_counter() - started < 1.0


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"just some text\n", b"%PDF-1.4\n"])
def test_not_an_image_is_unsupported(data: bytes) -> None:
    with pytest.raises(UnsupportedImage) as caught:
        decode_image(data, **LIMITS)
    assert caught.value.code == "unsupported_image"
    with pytest.raises(UnsupportedImage):
        read_size(data)


def corrupt_png_crc() -> bytes:
    data = bytearray(png_bytes(photo("chelsea")))
    idat = data.index(b"IDAT")
    data[idat + 100] ^= 0xFF  # flips bits inside the compressed pixels; the CRC no longer fits
    return bytes(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(truncated_jpeg(), id="truncated-jpeg"),
        pytest.param(png_bytes(photo("chelsea"))[:5000], id="truncated-png"),
        pytest.param(corrupt_png_crc(), id="png-bad-crc"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, id="png-garbage-header"),
        pytest.param(b"\xff\xd8\xff" + b"\x00" * 40, id="jpeg-garbage"),
        pytest.param(b"GIF89a" + b"\x00" * 4, id="gif-stub"),
        pytest.param(encode_with_pillow(pattern(), "WEBP")[:60], id="truncated-webp"),
    ],
)
def test_damaged_image_is_corrupt(data: bytes) -> None:
    with pytest.raises(CorruptImage) as caught:
        decode_image(data, **LIMITS)
    assert caught.value.code == "corrupt_image"
    assert caught.value.http_status == 422
    with pytest.raises(CorruptImage):
        check_image(data, **LIMITS)


# --- the cheap check ------------------------------------------------------------------


def _damaged_jpegs(count: int) -> list[bytes]:
    """``count`` copies of two photo JPEGs (baseline 4:2:0, progressive 4:4:4) with random
    bytes overwritten in their compressed data, some also cut short."""
    rng = np.random.default_rng(7)
    sources = [
        jpeg_bytes(photo("chelsea")),
        encode_with_pillow(photo("coffee"), "JPEG", progressive=True, subsampling=0),
    ]
    damaged = []
    for i in range(count):
        data = bytearray(sources[i % 2])
        for _ in range(int(rng.integers(1, 20))):
            data[int(rng.integers(600, len(data)))] = int(rng.integers(0, 256))
        if i % 3 == 0:
            data = data[: int(rng.integers(600, len(data)))]
        damaged.append(bytes(data))
    return damaged


def _verdict(decode: Callable[..., object], data: bytes) -> str:
    try:
        decode(data, **LIMITS)
    except PixserveError as exc:
        return exc.code
    return "ok"


def test_the_check_refuses_exactly_what_the_full_decode_refuses() -> None:
    # A JPEG is checked at an eighth of its size, but every compressed byte is still read.
    verdicts = [(_verdict(decode_image, d), _verdict(check_image, d)) for d in _damaged_jpegs(60)]
    assert [full for full, _ in verdicts] == [checked for _, checked in verdicts]
    assert {"ok", "corrupt_image"} <= {full for full, _ in verdicts}  # both kinds were made


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(jpeg_bytes(photo("chelsea"), exif_orientation=6), id="jpeg-rotated"),
        pytest.param(jpeg_bytes(photo("chelsea")[:, :, 0]), id="jpeg-grey"),
        pytest.param(encode_with_pillow(pattern(), "JPEG", progressive=True), id="progressive"),
        pytest.param(png_bytes(pattern()), id="png"),
        pytest.param(encode_with_pillow(pattern(), "WEBP"), id="webp"),
    ],
)
def test_the_check_finds_the_format_and_upright_size_of_the_decode(data: bytes) -> None:
    decoded, checked = decode_image(data, **LIMITS), check_image(data, **LIMITS)
    assert (checked.format, checked.size) == (decoded.format, decoded.size)


def test_the_check_decodes_a_jpeg_at_an_eighth_of_its_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loaded: list[tuple[int, int]] = []
    load = JpegImagePlugin.JpegImageFile.load

    def spy(self: JpegImagePlugin.JpegImageFile) -> object:
        loaded.append(self.size)
        return load(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", spy)
    assert check_image(jpeg_bytes(photo("chelsea")), **LIMITS).size == (451, 300)
    assert loaded and max(loaded) <= (57, 38)


def test_the_check_keeps_the_limits() -> None:
    with pytest.raises(ImageTooLarge):
        check_image(b"x" * 3 * 2**20, max_bytes=2 * 2**20, max_pixels=10**9)
    with pytest.raises(ImageTooLarge):
        check_image(jpeg_bytes(photo("chelsea")), max_bytes=10**7, max_pixels=451 * 300 - 1)
    with pytest.raises(ImageTooLarge):
        check_image(bomb_png(20_000, 20_000), max_bytes=10**7, max_pixels=50_000_000)
    with pytest.raises(UnsupportedImage):
        check_image(b"%PDF-1.4\n", **LIMITS)


def test_read_size_of_garbage_after_magic_is_corrupt() -> None:
    with pytest.raises(CorruptImage):
        read_size(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)


def test_read_size_does_not_decode() -> None:
    # A truncated file still has a complete header: its size is known without the pixels.
    assert read_size(truncated_jpeg()) == (451, 300)


@pytest.mark.parametrize(
    ("fit", "size", "decoded_at"),
    [
        (None, (1200, 800), 1),
        (700, (700, 467), 1),  # under twice the limit: decoded in full, then shrunk
        (600, (600, 400), 2),  # decoded at half size, so shrinking has nothing left to do
        (250, (250, 167), 4),  # a quarter
        (100, (100, 67), 8),  # an eighth, the smallest libjpeg decodes
        (20, (20, 13), 8),
    ],
)
def test_a_large_jpeg_decodes_near_the_size_it_will_be_shrunk_to(
    monkeypatch: pytest.MonkeyPatch, fit: int | None, size: tuple[int, int], decoded_at: int
) -> None:
    original = cv2.resize(photo("chelsea"), (1200, 800), interpolation=cv2.INTER_CUBIC)
    loaded: list[tuple[int, int]] = []
    load = JpegImagePlugin.JpegImageFile.load

    def spy(im: JpegImagePlugin.JpegImageFile) -> object:
        loaded.append(im.size)  # the size libjpeg decodes at, after draft()
        return load(im)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", spy)
    decoded = decode_image(jpeg_bytes(original), **LIMITS, fit=fit)
    assert loaded[0] == (1200 // decoded_at, 800 // decoded_at)
    # The size a full decode shrinks to, and the same picture.
    assert decoded.size == size
    full = cv2.resize(original, size, interpolation=cv2.INTER_AREA)
    assert mean_error(decoded.pixels, full) < 2.5


def test_the_fit_applies_to_the_longer_side_and_the_picture_turns_upright() -> None:
    wide = cv2.resize(photo("chelsea"), (1200, 800), interpolation=cv2.INTER_CUBIC)
    decoded = decode_image(jpeg_bytes(wide, exif_orientation=6), **LIMITS, fit=600)
    assert decoded.size == (400, 600)  # stored 1200×800, turned upright
    assert decoded.pixels.flags.c_contiguous


def test_other_formats_are_shrunk_after_a_full_decode_and_the_pixel_limit_holds() -> None:
    big = cv2.resize(photo("chelsea"), (1200, 800), interpolation=cv2.INTER_CUBIC)
    assert decode_image(png_bytes(big), **LIMITS, fit=100).size == (100, 67)
    with pytest.raises(ImageTooLarge):  # the full size counts, not the decoded one
        decode_image(jpeg_bytes(big), max_bytes=10**7, max_pixels=500_000, fit=100)
