"""Watercolour: soft transparent washes that bleed, dark pigment rims, textured paper."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pixserve.imaging.fit import fit_within
from pixserve.pipeline.operators.base import OperatorProgress
from pixserve.pipeline.operators.scale import resize_to, unit
from pixserve.pipeline.operators.texture import clouds, grain

_SEED = 4242
_WORK_SIDE = 640  # washes are soft, so they are painted on a smaller copy and enlarged


@dataclass(frozen=True)
class WatercolorParams:
    """``wash``: smoothing scale; ``bleed``: edge wobble; ``texture``: paper/pigment grain."""

    wash: float = 1.0
    bleed: float = 1.0
    texture: float = 1.0
    edges: float = 1.0

    def __post_init__(self) -> None:
        for value in (self.wash, self.bleed, self.texture, self.edges):
            if not 0 <= value <= 4:
                raise ValueError("watercolor parameters must be between 0 and 4")


def watercolor(rgb: np.ndarray, p: WatercolorParams, progress: OperatorProgress) -> np.ndarray:
    """Washes from an edge-preserving filter, wobbled edges, rim darkening and paper grain."""
    u = unit(rgb)
    small = fit_within(rgb, _WORK_SIDE)
    us = unit(small)
    wash = small
    if p.wash > 0:
        sigma_s = min(200.0, 20.0 * us * p.wash)
        wash = cv2.edgePreservingFilter(
            small, flags=cv2.RECURS_FILTER, sigma_s=sigma_s, sigma_r=0.35
        )
        progress(0.12)
        # Mean shift flattens the washes into patches of one pigment each.
        wash = cv2.pyrMeanShiftFiltering(wash, sp=max(2.0, 6.0 * us * p.wash), sr=18.0)
        progress(0.6)
    wash = _bleed(wash, us * p.bleed)
    colour = resize_to(wash, rgb.shape).astype(np.float32) / 255.0
    progress(0.65)

    # Transparent pigment: lighter and a little more saturated than the photo.
    grey = colour.mean(axis=2, keepdims=True)
    colour = np.clip(grey + (colour - grey) * 1.2, 0.0, 1.0)
    colour = 1.0 - (1.0 - colour) * 0.8

    # A faint underdrawing keeps eyes and mouths readable under the washes.
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    local = cv2.GaussianBlur(grey, (0, 0), 3.0 * u)
    sketch: np.ndarray = np.clip(grey / np.maximum(local, 1e-3), 0.0, 1.0) ** 1.5
    sketch = cv2.GaussianBlur(sketch, (0, 0), 0.7 * max(1.0, u))
    colour = colour * (0.7 + 0.3 * sketch[..., None])
    progress(0.8)

    lum = cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY)
    rim = np.abs(lum - cv2.GaussianBlur(lum, (0, 0), 3.0 * u))
    rim = np.clip(rim * 6.0, 0.0, 1.0)
    turbulence = clouds(rgb.shape, seed=_SEED, period=60 * u)
    paper = grain(rgb.shape, seed=_SEED + 1, sigma=1.2 * max(1.0, u))
    progress(0.92)
    density = 1.0 + p.edges * 0.9 * rim + p.texture * (0.15 * turbulence + 0.09 * paper)
    # Bousseau et al. 2006: pigment density d darkens C as C - C(1 - C)(d - 1).
    out = colour - colour * (1.0 - colour) * (density[..., None] - 1.0)
    out *= 1.0 - p.texture * 0.012 * (paper[..., None] + 1.0)
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _bleed(rgb: np.ndarray, amount: float) -> np.ndarray:
    """Wobble region borders with a smooth random displacement, as wet pigment runs."""
    if amount <= 0:
        return rgb
    h, w = rgb.shape[:2]
    dx = clouds((h, w), seed=_SEED + 2, period=12 * max(amount, 0.2), octaves=2) * 0.9 * amount
    dy = clouds((h, w), seed=_SEED + 3, period=12 * max(amount, 0.2), octaves=2) * 0.9 * amount
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(rgb, gx + dx, gy + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
