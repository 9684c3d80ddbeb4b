"""Post steps a bundle can list in ``[pipeline] post``: sharpen, resize_to_input,
normalise_colours."""

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

    def output_shape(self, shape: tuple[int, int], source: tuple[int, int]) -> tuple[int, int]:
        """Unchanged."""
        return shape


@dataclass(frozen=True)
class ResizeToInput:
    """Resizes the result to the size of the input (after the crop, before ``max_side``)."""

    name: ClassVar[str] = "resize_to_input"
    weight: ClassVar[float] = 0.03

    def __call__(self, frame: Frame) -> Frame:
        """Return the frame at ``frame.source_shape`` (bicubic up, area down)."""
        ph, pw = frame.pixels.shape[:2]
        h, w = self.output_shape((ph, pw), frame.source_shape)
        if (ph, pw) == (h, w):
            return frame
        grow = h * w > ph * pw
        pixels = cv2.resize(
            frame.pixels, (w, h), interpolation=cv2.INTER_CUBIC if grow else cv2.INTER_AREA
        )
        return frame.with_pixels(pixels)

    def output_shape(self, shape: tuple[int, int], source: tuple[int, int]) -> tuple[int, int]:
        """``source``: the input's size after the crop, before the size limit."""
        return source


@dataclass(frozen=True)
class NormaliseColours:
    """Gives the result the photo's colours back (Reinhard et al. 2001, in CIE Lab): each
    channel's mean and spread are moved to the photo's, by ``strength`` (0 = unchanged,
    1 = fully). ``lightness = false`` keeps the result's own light and dark, changing only
    hue and saturation. Neural styles bring the style image's palette; this keeps the
    strokes and restores the photo's colours, as the paint-my-photo shop did."""

    strength: float = 1.0
    lightness: bool = True
    name: ClassVar[str] = "normalise_colours"
    weight: ClassVar[float] = 0.03

    def __post_init__(self) -> None:
        if not 0 <= self.strength <= 1:
            raise ValueError("normalise_colours needs 0 ≤ strength ≤ 1")

    def __call__(self, frame: Frame) -> Frame:
        """Return the frame with the photo's colour statistics."""
        if self.strength == 0:
            return frame
        photo = frame.photo if frame.photo is not None else frame.pixels
        out = _lab(frame.pixels)
        ref = _lab(photo)
        channels = range(3) if self.lightness else range(1, 3)
        moved = out.copy()
        for c in channels:
            mean, std = out[..., c].mean(), out[..., c].std() + 1e-6
            moved[..., c] = (out[..., c] - mean) / std * ref[..., c].std() + ref[..., c].mean()
        blended = out + self.strength * (moved - out)
        rgb = cv2.cvtColor(blended.astype(np.float32), cv2.COLOR_LAB2RGB)
        return frame.with_pixels(np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8))

    def output_shape(self, shape: tuple[int, int], source: tuple[int, int]) -> tuple[int, int]:
        """Unchanged."""
        return shape


def _lab(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2LAB))
