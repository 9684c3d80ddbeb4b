"""``CropStep``: cut the requested rectangle out of the upright image."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pixserve.core.errors import InvalidCrop
from pixserve.core.i18n import N_
from pixserve.pipeline.steps.base import Frame


@dataclass(frozen=True)
class CropStep:
    """Keeps only ``frame.crop``; a crop reaching outside the image is an :class:`InvalidCrop`."""

    name: ClassVar[str] = "crop"
    weight: ClassVar[float] = 0.02

    def __call__(self, frame: Frame) -> Frame:
        """Return the cropped frame (unchanged when there is no crop)."""
        crop = frame.crop
        if crop is None:
            return frame
        h, w = frame.pixels.shape[:2]
        if crop.x < 0 or crop.y < 0 or crop.w <= 0 or crop.h <= 0:
            raise InvalidCrop(
                N_("The crop {crop} must lie inside the {width}×{height} image."),
                crop=str(crop),
                width=w,
                height=h,
            )
        if crop.x + crop.w > w or crop.y + crop.h > h:
            raise InvalidCrop(
                f"crop {crop} (x,y,w,h) reaches outside the {w}×{h} image (width×height)"
            )
        pixels = frame.pixels[crop.y : crop.y + crop.h, crop.x : crop.x + crop.w]
        return Frame(pixels=pixels, source_shape=(crop.h, crop.w), crop=crop, photo=pixels)

    def output_shape(self, shape: tuple[int, int], source: tuple[int, int]) -> tuple[int, int]:
        """``shape`` is the crop's already (sizes are asked for the chosen rectangle)."""
        return shape
