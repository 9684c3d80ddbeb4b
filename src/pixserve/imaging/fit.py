"""Shrinking a picture so that its longer side fits a limit."""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["fit_within", "fitted_shape"]


def fitted_shape(height: int, width: int, side: int) -> tuple[int, int]:
    """(height, width) with the longer side at most ``side``, aspect kept; never enlarged."""
    longest = max(height, width)
    if longest <= side:
        return height, width
    factor = side / longest
    return max(1, round(height * factor)), max(1, round(width * factor))


def fit_within(pixels: np.ndarray, side: int) -> np.ndarray:
    """``pixels`` shrunk (INTER_AREA) to :func:`fitted_shape`; unchanged if they fit."""
    h, w = pixels.shape[:2]
    shape = fitted_shape(h, w, side)
    if shape == (h, w):
        return pixels
    return cv2.resize(pixels, shape[::-1], interpolation=cv2.INTER_AREA)
