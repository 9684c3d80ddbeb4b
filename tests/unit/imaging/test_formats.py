"""Format sniffing from magic bytes, and the ImageFormat helpers."""

from __future__ import annotations

import numpy as np
import pytest

from pixserve.core.errors import UnsupportedImage
from pixserve.imaging import ImageFormat, sniff_format
from tests.support.images import encode_with_pillow, pattern

PILLOW_NAMES = {fmt: fmt.value.upper() for fmt in ImageFormat}


@pytest.mark.parametrize("fmt", list(ImageFormat))
def test_sniffs_every_format_pillow_writes(fmt: ImageFormat) -> None:
    data = encode_with_pillow(pattern(32, 16), PILLOW_NAMES[fmt])
    assert sniff_format(data) is fmt


def test_sniffs_bigtiff_and_big_endian_tiff_headers() -> None:
    assert sniff_format(b"MM\x00*" + bytes(60)) is ImageFormat.TIFF
    assert sniff_format(b"II+\x00" + bytes(60)) is ImageFormat.TIFF


def test_sniffs_avif_listed_only_as_a_compatible_brand() -> None:
    ftyp = b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf"
    assert sniff_format(ftyp + bytes(32)) is ImageFormat.AVIF


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"hello, this is a text file\n", id="text"),
        pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", id="pdf"),
        pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'/>", id="svg"),
        pytest.param(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(32), id="heic"),
        pytest.param(b"BM is not a bitmap, just text that starts with BM", id="bm-text"),
        pytest.param(b"\xff\xd8", id="two-bytes-of-jpeg"),
        pytest.param(b"RIFF\x00\x00\x00\x00WAVEfmt ", id="wav"),
    ],
)
def test_refuses_anything_else(data: bytes) -> None:
    with pytest.raises(UnsupportedImage) as caught:
        sniff_format(data)
    assert caught.value.code == "unsupported_image"


def test_ignores_what_follows_the_magic() -> None:
    # A PNG signature followed by JPEG bytes is a (broken) PNG: only the start counts.
    jpeg = encode_with_pillow(np.zeros((8, 8, 3), np.uint8), "JPEG")
    assert sniff_format(b"\x89PNG\r\n\x1a\n" + jpeg) is ImageFormat.PNG


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [
        (ImageFormat.JPEG, "image/jpeg", "jpg"),
        (ImageFormat.PNG, "image/png", "png"),
        (ImageFormat.WEBP, "image/webp", "webp"),
        (ImageFormat.AVIF, "image/avif", "avif"),
        (ImageFormat.GIF, "image/gif", "gif"),
        (ImageFormat.BMP, "image/bmp", "bmp"),
        (ImageFormat.TIFF, "image/tiff", "tiff"),
    ],
)
def test_content_type_and_extension(fmt: ImageFormat, content_type: str, extension: str) -> None:
    assert fmt.content_type == content_type
    assert fmt.extension == extension
    assert str(fmt) == fmt.value


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("jpeg", ImageFormat.JPEG), ("JPG", ImageFormat.JPEG), ("tif", ImageFormat.TIFF)],
)
def test_parses_common_spellings(name: str, fmt: ImageFormat) -> None:
    assert ImageFormat(name) is fmt


def test_unknown_name_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        ImageFormat("heic")


def test_only_jpeg_png_and_webp_are_encodable() -> None:
    encodable = {fmt for fmt in ImageFormat if fmt.can_encode}
    assert encodable == {ImageFormat.JPEG, ImageFormat.PNG, ImageFormat.WEBP}
