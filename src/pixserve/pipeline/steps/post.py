"""Post steps a bundle can list in ``[pipeline] post``: sharpen, resize_to_input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import cv2
import numpy as np

from pixserve.pipeline.steps.base import Frame


@dataclass(frozen=True)
class Sharpen:
    """Unsharp mask: adds ``amount`` × (image − blurred image); ``radius`` is the blur sigma."""

    amount: float = 0.6
    radius: float = 1.0
    name: ClassVar[str] = "sharpen"
    weight: ClassVar[float] = 0.03

    def __post_init__(self) -> None:
        if not 0 <= self.amount <= 5 or not 0 < self.radius <= 20:
            raise ValueError("sharpen needs 0 ≤ amount ≤ 5 and 0 < radius ≤ 20")

    def __call__(self, frame: Frame) -> Frame:
        """Return the sharpened frame."""
        blurred = cv2.GaussianBlur(frame.pixels, (0, 0), self.radius)
        sharp = cv2.addWeighted(frame.pixels, 1.0 + self.amount, blurred, -self.amount, 0)
        return frame.with_pixels(np.asarray(sharp, dtype=np.uint8))


@dataclass(frozen=True)
class ResizeToInput:
    """Resizes the result to the size of the input (after the crop, before ``max_side``)."""

    name: ClassVar[str] = "resize_to_input"
    weight: ClassVar[float] = 0.03

    def __call__(self, frame: Frame) -> Frame:
        """Return the frame at ``frame.source_shape`` (bicubic up, area down)."""
        h, w = frame.source_shape
        ph, pw = frame.pixels.shape[:2]
        if (ph, pw) == (h, w):
            return frame
        grow = h * w > ph * pw
        pixels = cv2.resize(
            frame.pixels, (w, h), interpolation=cv2.INTER_CUBIC if grow else cv2.INTER_AREA
        )
        return frame.with_pixels(pixels)
