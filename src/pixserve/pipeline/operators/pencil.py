"""Pencil: a graphite sketch on paper (grey), or a coloured-pencil version of it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from pixserve.pipeline.operators.base import OperatorProgress
from pixserve.pipeline.operators.scale import odd, unit
from pixserve.pipeline.operators.texture import grain

_SEED = 1729


@dataclass(frozen=True)
class PencilParams:
    """``color``: coloured pencils; ``lines``: outline strength; ``shading``: hatching."""

    color: bool = False
    lines: float = 1.0
    shading: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.lines <= 4 or not 0 <= self.shading <= 4:
            raise ValueError("lines and shading must be between 0 and 4")


def pencil(rgb: np.ndarray, p: PencilParams, progress: OperatorProgress) -> np.ndarray:
    """Colour-dodge outlines, diagonal hatching in the shadows and a paper grain."""
    u = unit(rgb)
    grey: np.ndarray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    grey = cv2.GaussianBlur(grey, (0, 0), 0.6 * u)
    # Colour dodge of grey with its blurred negative = grey / blur(grey): dark only where a
    # pixel is darker than its neighbourhood, i.e. along edges.
    local = cv2.GaussianBlur(grey, (0, 0), 5.0 * u)
    # The 0.06 keeps noise in near-black areas from turning into solid black.
    dodge = np.clip((grey + 0.06) / (local + 0.06), 0.0, 1.0)
    lines = dodge ** (1.0 + 2.5 * p.lines)
    progress(0.3)

    tone = cv2.GaussianBlur(grey, (0, 0), 2.0 * u)
    shade = np.clip(1.0 - tone * 1.25, 0.0, 1.0) ** 1.3  # 0 on light areas, →1 in shadows
    hatch = _hatching(grey.shape, u)
    progress(0.7)
    graphite = lines * (1.0 - 0.55 * p.shading * shade * hatch)
    paper = 1.0 - 0.035 * (grain(grey.shape, seed=_SEED + 1, sigma=0.7) + 1.0)
    sketch = np.clip(0.1 + 0.9 * graphite * paper, 0.0, 1.0)  # graphite is never black
    progress(0.9)

    if not p.color:
        out = np.repeat(sketch[..., None], 3, axis=2)
    else:
        colour = cv2.GaussianBlur(rgb, (0, 0), 1.5 * u).astype(np.float32) / 255.0
        colour = _saturate(colour, 1.5)
        # Coloured pencil leaves more pigment where the stroke texture and shadow are heavier.
        density = np.clip(0.2 + 0.3 * hatch + 0.45 * shade, 0.0, 1.0)[..., None]
        tint = 1.0 - (1.0 - colour) * density
        out = tint * (0.3 + 0.7 * sketch[..., None])
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _hatching(shape: tuple[int, ...], u: float) -> np.ndarray:
    """Diagonal strokes in [0, 1]: noise smeared along a 45° line, contrast-stretched."""
    noise = grain(shape, seed=_SEED, sigma=0.5 * max(1.0, u))
    length = odd(14 * u, 3)
    kernel = np.zeros((length, length), np.float32)
    cv2.line(kernel, (0, length - 1), (length - 1, 0), 1.0, 1)
    kernel /= kernel.sum()
    strokes = cv2.filter2D(noise, -1, kernel) * math.sqrt(length)
    return np.clip(0.5 + 0.45 * strokes, 0.0, 1.0)


def _saturate(rgb: np.ndarray, amount: float) -> np.ndarray:
    grey = rgb.mean(axis=2, keepdims=True)
    return np.clip(grey + (rgb - grey) * amount, 0.0, 1.0)
