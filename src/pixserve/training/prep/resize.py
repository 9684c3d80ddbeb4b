"""Making photos the size a dataset wants: a centre square, resized."""

from __future__ import annotations

import cv2
import numpy as np


def centre_square(pixels: np.ndarray) -> np.ndarray:
    """The largest square in the middle of ``pixels`` (the longer side is cut evenly)."""
    h, w = pixels.shape[:2]
    side = min(h, w)
    y, x = (h - side) // 2, (w - side) // 2
    return np.ascontiguousarray(pixels[y : y + side, x : x + side])


def resize(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    """``pixels`` resized to ``width`` × ``height``: area averaging to shrink (no aliasing),
    bicubic to enlarge; the same array when it already has that size."""
    h, w = pixels.shape[:2]
    if (w, h) == (width, height):
        return pixels
    shrinking = width * height < w * h
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return cv2.resize(pixels, (width, height), interpolation=interpolation)


def square(pixels: np.ndarray, size: int) -> np.ndarray:
    """The centre square of ``pixels`` at ``size`` × ``size``; ``size`` 0 keeps them as they are."""
    if size == 0:
        return pixels
    return resize(centre_square(pixels), size, size)
