"""Image-size-relative sizes, so a 300-px and a 2000-px photo come out looking alike."""

from __future__ import annotations

import cv2
import numpy as np

#: The longer side, in pixels, that operator parameters are tuned for.
REFERENCE_SIDE = 512.0


def unit(pixels: np.ndarray) -> float:
    """How many pixels of ``pixels`` one pixel of a ``REFERENCE_SIDE`` image spans."""
    return max(pixels.shape[:2]) / REFERENCE_SIDE


def odd(size: float, minimum: int = 1) -> int:
    """The nearest odd integer ≥ ``minimum`` to ``size`` (kernel sizes must be odd)."""
    n = max(minimum, round(size))
    return n if n % 2 else n + 1


def resize_to(pixels: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``pixels`` resized (bicubic up, area down) to height and width ``shape[:2]``."""
    h, w = shape[:2]
    if pixels.shape[:2] == (h, w):
        return pixels
    grow = h * w > pixels.shape[0] * pixels.shape[1]
    return cv2.resize(pixels, (w, h), interpolation=cv2.INTER_CUBIC if grow else cv2.INTER_AREA)
