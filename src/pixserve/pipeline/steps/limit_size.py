"""``LimitSize``: shrink the image so its longer side fits the style's ``max_side``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import cv2

from pixserve.imaging.fit import fitted_shape
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
        th, tw = self.output_shape((h, w), frame.source_shape)
        if (th, tw) == (h, w):
            return frame
        return frame.with_pixels(cv2.resize(frame.pixels, (tw, th), interpolation=cv2.INTER_AREA))

    def output_shape(self, shape: tuple[int, int], source: tuple[int, int]) -> tuple[int, int]:
        """(height, width) after the limit: the longer side at most ``max_side``, aspect kept."""
        return fitted_shape(shape[0], shape[1], self.max_side)
