"""``LimitSize``: shrink the image so its longer side fits the style's ``max_side``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import cv2

from pixserve.pipeline.steps.base import Frame


@dataclass(frozen=True)
class LimitSize:
    """Downscales (INTER_AREA, aspect kept) when the longer side exceeds ``max_side``."""

    max_side: int
    name: ClassVar[str] = "limit_size"
    weight: ClassVar[float] = 0.03

    def __call__(self, frame: Frame) -> Frame:
        """Return the frame, shrunk if it is too large; smaller images are never enlarged."""
        h, w = frame.pixels.shape[:2]
        longest = max(h, w)
        if longest <= self.max_side:
            return frame
        factor = self.max_side / longest
        size = (max(1, round(w * factor)), max(1, round(h * factor)))
        return frame.with_pixels(cv2.resize(frame.pixels, size, interpolation=cv2.INTER_AREA))
