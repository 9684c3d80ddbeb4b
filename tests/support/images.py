"""Test images built in memory: photos, patterns, and files shaped to break decoders.

Shared by every test tier; nothing here touches the network or the disk.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import numpy as np
from PIL import Image

__all__ = [
    "GPS_LATITUDE",
    "PATTERN_COLOURS",
    "SRGB_PRIMARIES",
    "bomb_png",
    "encode_with_pillow",
    "exif_block",
    "jpeg_bytes",
    "orient",
    "pattern",
    "photo",
    "png16_bytes",
    "png_bytes",
    "rgb_icc_profile",
    "truncated_jpeg",
]

# Quadrant colours of :func:`pattern`, clockwise from the top left. Four different colours in a
# 2x2 grid tell apart all eight flips and rotations.
PATTERN_COLOURS = ((220, 30, 30), (30, 200, 30), (30, 30, 220), (240, 220, 40))
GPS_LATITUDE = (48.0, 51.0, 29.0)  # a spot in Paris, degrees, minutes, seconds
# sRGB's red, green and blue primaries as ICC XYZ columns (adapted to D50).
SRGB_PRIMARIES = ((0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141))
_D50 = (0.9642, 1.0, 0.8249)


def photo(name: str = "astronaut") -> np.ndarray:
    """A real photo as ``(H, W, 3)`` uint8 RGB: ``astronaut``, ``chelsea`` or ``coffee``."""
    import skimage.data

    if name not in ("astronaut", "chelsea", "coffee"):
        raise ValueError(f"no test photo called {name!r}")
    return np.ascontiguousarray(getattr(skimage.data, name)(), dtype=np.uint8)


def pattern(width: int = 96, height: int = 64) -> np.ndarray:
    """An asymmetric, wider-than-tall ``(H, W, 3)`` pattern of four flat coloured quadrants.

    Flat blocks on multiples of 16 pixels survive JPEG nearly untouched, so any wrong flip or
    rotation shows as a large difference.
    """
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    top_left, top_right, bottom_right, bottom_left = PATTERN_COLOURS
    h2, w2 = height // 2, width // 2
    pixels[:h2, :w2] = top_left
    pixels[:h2, w2:] = top_right
    pixels[h2:, w2:] = bottom_right
    pixels[h2:, :w2] = bottom_left
    return pixels


def orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Store upright ``pixels`` as a camera with this EXIF orientation would (the inverse).

    Uses Pillow's own transposes, so the tests do not share code with the decoder.
    """
    if orientation == 1:
        return pixels.copy()
    # ImageOps.exif_transpose turns 6 with ROTATE_270 and 8 with ROTATE_90; the other
    # transposes undo themselves.
    stored_as = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }
    return np.asarray(Image.fromarray(pixels).transpose(stored_as[orientation]))


def exif_block(*, orientation: int | None = None, gps: bool = False) -> Image.Exif:
    """An EXIF block with an orientation and/or a GPS position (plus a camera make)."""
    exif = Image.Exif()
    exif[0x010F] = "PixservePhone"  # Make
    if orientation is not None:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {  # GPSInfo IFD
            1: "N",
            2: GPS_LATITUDE,
            3: "E",
            4: (2.0, 17.0, 40.0),
        }
    return exif


def encode_with_pillow(pixels: np.ndarray, pillow_format: str, **options: Any) -> bytes:
    """Encode pixels (``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)`` uint8) with Pillow directly."""
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, pillow_format, **options)
    return out.getvalue()


def jpeg_bytes(
    pixels: np.ndarray,
    exif_orientation: int | None = None,
    gps: bool = False,
    *,
    quality: int = 95,
    **options: Any,
) -> bytes:
    """A JPEG of ``pixels``, optionally carrying EXIF orientation and a GPS position."""
    if exif_orientation is not None or gps:
        options["exif"] = exif_block(orientation=exif_orientation, gps=gps)
    return encode_with_pillow(pixels, "JPEG", quality=quality, **options)


def png_bytes(
    pixels: np.ndarray,
    exif_orientation: int | None = None,
    gps: bool = False,
    **options: Any,
) -> bytes:
    """A PNG of ``pixels`` (grey, RGB or RGBA), optionally with an EXIF (``eXIf``) block."""
    if exif_orientation is not None or gps:
        options["exif"] = exif_block(orientation=exif_orientation, gps=gps)
    return encode_with_pillow(pixels, "PNG", **options)


def truncated_jpeg() -> bytes:
    """A photo JPEG cut off part-way through its pixel data."""
    data = jpeg_bytes(photo("chelsea"))
    return data[: len(data) * 3 // 5]


def png16_bytes(values: np.ndarray) -> bytes:
    """A 16-bit PNG of ``(H, W)`` grey or ``(H, W, 3)`` RGB uint16 ``values``.

    Written by hand because Pillow cannot save 16-bit RGB.
    """
    if values.dtype != np.uint16 or values.ndim not in (2, 3):
        raise ValueError("png16_bytes wants (H, W) or (H, W, 3) uint16")
    height, width = values.shape[:2]
    colour_type = 0 if values.ndim == 2 else 2
    rows = values.astype(">u2").reshape(height, -1).view(np.uint8)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)
    return _png(width, height, 16, colour_type, zlib.compress(raw))


def bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A valid 1-bit grey PNG of ``width`` x ``height`` zero pixels, a few kilobytes long.

    The zlib stream is built one row at a time, so the image is never held in memory: the
    file is as cheap to make as it is expensive to decode.
    """
    row = bytes(1 + (width + 7) // 8)  # filter byte 0, then packed zero bits
    compressor = zlib.compressobj(9)
    chunks = []
    for start in range(0, height, 1024):  # 1024 rows at a time: a few MB, not the image
        chunks.append(compressor.compress(row * min(1024, height - start)))
    chunks.append(compressor.flush())
    return _png(width, height, 1, 0, b"".join(chunks))


def _png(width: int, height: int, bit_depth: int, colour_type: int, idat: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def rgb_icc_profile(
    primaries: tuple[tuple[float, float, float], ...] = SRGB_PRIMARIES, gamma: float = 2.2
) -> bytes:
    """A minimal ICC v2 RGB matrix/TRC display profile with the given primaries and gamma.

    Written by hand since Pillow can only make sRGB, LAB and XYZ profiles: swapping the red
    and green primaries gives a profile whose conversion to sRGB is unmistakable.
    """
    red, green, blue = primaries
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256)) + bytes(2)
    description = b"pixserve test profile\x00"
    desc = (
        b"desc"
        + bytes(4)
        + struct.pack(">I", len(description))
        + description
        + bytes(8)  # no Unicode description
        + bytes(3 + 67)  # no ScriptCode description
    )
    tags = [
        (b"desc", desc),
        (b"wtpt", _xyz(_D50)),
        (b"rXYZ", _xyz(red)),
        (b"gXYZ", _xyz(green)),
        (b"bXYZ", _xyz(blue)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = [struct.pack(">I", len(tags))], b""
    for signature, data in tags:
        data += bytes(-len(data) % 4)  # tags start on 4-byte boundaries
        table.append(signature + struct.pack(">II", offset + len(body), len(data)))
        body += data
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + bytes(4)
        + struct.pack(">I", 0x02100000)  # version 2.1
        + b"mntrRGB XYZ "
        + bytes(12)  # creation date
        + b"acsp"
        + bytes(24)  # platform, flags, manufacturer, model, attributes
        + struct.pack(">I", 0)  # perceptual intent
        + b"".join(struct.pack(">i", round(v * 65536)) for v in _D50)
        + bytes(48)
    )
    return header + b"".join(table) + body


def _xyz(value: tuple[float, float, float]) -> bytes:
    return b"XYZ " + bytes(4) + b"".join(struct.pack(">i", round(v * 65536)) for v in value)
