"""The image formats pixserve reads and writes, told apart by their magic bytes."""

from __future__ import annotations

from enum import StrEnum

from pixserve.core.errors import UnsupportedImage

__all__ = ["ImageFormat", "sniff_format"]


class ImageFormat(StrEnum):
    """An image file format; the value is its lower-case name (``"jpeg"``)."""

    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    AVIF = "avif"
    GIF = "gif"
    BMP = "bmp"
    TIFF = "tiff"

    @classmethod
    def _missing_(cls, value: object) -> ImageFormat | None:
        # Accept "JPEG", "jpg", "tif": names people type in settings and query strings.
        if isinstance(value, str):
            name = value.strip().lower().lstrip(".")
            name = _ALIASES.get(name, name)
            for member in cls:
                if member.value == name:
                    return member
        return None

    @property
    def content_type(self) -> str:
        """The MIME type, e.g. ``"image/jpeg"``."""
        return f"image/{self.value}"

    @property
    def extension(self) -> str:
        """The usual file name extension, without the dot, e.g. ``"jpg"``."""
        return "jpg" if self is ImageFormat.JPEG else self.value

    @property
    def pillow_name(self) -> str:
        """The name Pillow registers this format's plugin under, e.g. ``"JPEG"``."""
        return self.value.upper()

    @property
    def can_encode(self) -> bool:
        """Whether :func:`pixserve.imaging.encode_image` can write this format."""
        return self in _ENCODABLE


_ALIASES = {"jpg": "jpeg", "jpe": "jpeg", "tif": "tiff"}
_ENCODABLE = frozenset({ImageFormat.JPEG, ImageFormat.PNG, ImageFormat.WEBP})

# Header sizes of the BMP variants Pillow reads. "BM" alone is too weak a signature: plenty of
# text files start with those two letters.
_BMP_HEADER_SIZES = frozenset({12, 40, 52, 56, 64, 108, 124})
_TIFF_PREFIXES = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF
_AVIF_BRANDS = frozenset({b"avif", b"avis"})


def sniff_format(data: bytes) -> ImageFormat:
    """Tell the format of an encoded image from its first bytes alone.

    File names and declared content types are never consulted: they are whatever the client
    says. Raises :class:`UnsupportedImage` for anything that is not one of
    :class:`ImageFormat` (text, PDF, HEIC, an empty body...).
    """
    head = bytes(data[:64])
    if head.startswith(b"\xff\xd8\xff"):
        return ImageFormat.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageFormat.PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return ImageFormat.GIF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return ImageFormat.WEBP
    if head.startswith(_TIFF_PREFIXES):
        return ImageFormat.TIFF
    if head.startswith(b"BM") and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return ImageFormat.BMP
    if _is_avif(data):
        return ImageFormat.AVIF
    raise UnsupportedImage()


def _is_avif(data: bytes) -> bool:
    # An ISO-BMFF file opens with an "ftyp" box: size, "ftyp", major brand, minor version, then
    # compatible brands. HEIC shares the container, so only the avif/avis brands count.
    if len(data) < 16 or data[4:8] != b"ftyp":
        return False
    box_size = int.from_bytes(data[0:4], "big")
    if box_size < 16 or box_size > min(len(data), 4096):
        return False
    brands = [data[8:12]] + [data[i : i + 4] for i in range(16, box_size - 3, 4)]
    return any(brand in _AVIF_BRANDS for brand in brands)
