"""EXIF orientation: which way up the camera held the picture, and how to undo it."""

from __future__ import annotations

import numpy as np
from PIL import ExifTags, Image

__all__ = ["apply_orientation", "exif_orientation", "upright_size"]

# Orientations 5 to 8 store the picture on its side: width and height swap when it is turned up.
_SIDEWAYS = frozenset({5, 6, 7, 8})


def exif_orientation(im: Image.Image, *, allow_load: bool = True) -> int:
    """The EXIF orientation (1 to 8) of an opened image; 1 when absent or unreadable.

    With ``allow_load=False`` only metadata already parsed from the header is read: Pillow
    finds a PNG ``eXIf`` chunk placed after the pixel data only by decoding the whole file.
    """
    if not allow_load and im.format == "PNG" and "exif" not in im.info:
        return 1
    try:
        value = im.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:
        # A mangled EXIF block must not cost the user their upload; treat it as upright.
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """The ``(width, height)`` a stored ``size`` has once turned upright."""
    width, height = size
    return (height, width) if orientation in _SIDEWAYS else (width, height)


def apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Turn stored ``(H, W, ...)`` pixels upright; may return a non-contiguous view.

    Matches ``PIL.ImageOps.exif_transpose`` for all eight values; unknown values are ignored.
    """
    if orientation == 2:  # mirrored
        return pixels[:, ::-1]
    if orientation == 3:  # upside down
        return pixels[::-1, ::-1]
    if orientation == 4:  # mirrored upside down
        return pixels[::-1]
    if orientation == 5:  # mirrored across the main diagonal
        return pixels.swapaxes(0, 1)
    if orientation == 6:  # stored turned 90° anticlockwise: turn it clockwise
        return np.rot90(pixels, k=-1)
    if orientation == 7:  # mirrored across the anti-diagonal
        return pixels[::-1, ::-1].swapaxes(0, 1)
    if orientation == 8:  # stored turned 90° clockwise: turn it anticlockwise
        return np.rot90(pixels, k=1)
    return pixels
