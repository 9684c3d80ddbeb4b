"""Oil paint: generalised Kuwahara brush patches, stroke texture along the flow, impasto."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from pixserve.imaging.fit import fit_within
from pixserve.pipeline.operators.base import OperatorProgress, no_progress
from pixserve.pipeline.operators.scale import resize_to, unit
from pixserve.pipeline.operators.texture import grain

_SEED = 77
_WORK_SIDE = 640  # the Kuwahara pass runs on a copy this size; strokes are added at full size
_SECTORS = 8
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


@dataclass(frozen=True)
class OilParams:
    """``brush``: stroke size; ``relief``: impasto lighting; ``strokes``: bristle texture."""

    brush: float = 1.0
    relief: float = 1.0
    strokes: float = 1.0

    def __post_init__(self) -> None:
        if not 0.25 <= self.brush <= 4 or not 0 <= self.relief <= 4 or not 0 <= self.strokes <= 4:
            raise ValueError("brush must be 0.25..4, relief and strokes 0..4")


def oil(rgb: np.ndarray, p: OilParams, progress: OperatorProgress) -> np.ndarray:
    """Kuwahara-painted colour, smeared bristle noise along edges, lit as raised paint."""
    u = unit(rgb)
    small = fit_within(rgb, _WORK_SIDE)
    us = unit(small)
    radius = max(2, round(4.5 * us * p.brush))
    # The two Kuwahara passes are most of the work: they report sector by sector.
    paint = _kuwahara(
        small.astype(np.float32) / 255.0, radius, progress=lambda f: progress(0.5 * f)
    )
    paint = _kuwahara(paint, max(2, radius // 2), progress=lambda f: progress(0.5 + 0.05 * f))
    angle = _flow_angle(paint, 5.0 * us)
    colour = resize_to(paint, rgb.shape)
    # Enlarging softens the patches; an unsharp mask gives back crisp stroke borders.
    colour = np.clip(colour * 1.6 - cv2.GaussianBlur(colour, (0, 0), 1.5 * u) * 0.6, 0.0, 1.0)
    angle_full = resize_to(angle, rgb.shape)
    progress(0.7)

    bristles = _smear(
        grain(rgb.shape, seed=_SEED, sigma=0.6 * max(1.0, u)), angle_full, 14 * u * p.brush
    )
    progress(0.9)
    height = cv2.GaussianBlur(cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY), (0, 0), 1.0 * u)
    height = height * 6.0 + 0.35 * p.strokes * bristles
    gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3)
    light = (-gx - gy) / math.sqrt(2.0)  # light from the top left
    shade = np.tanh(light * 0.5 / max(u, 0.25)) * 0.12 * p.relief
    out = colour * (1.0 + shade[..., None]) + 0.05 * p.relief * np.clip(shade, 0, None)[..., None]
    out *= 1.0 + 0.03 * p.strokes * bristles[..., None]
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


@lru_cache(maxsize=16)
def _sector_kernels(radius: int) -> tuple[np.ndarray, ...]:
    """Papari et al. 2007 sector weights: smooth angular wedges times a radial Gaussian."""
    r = np.arange(-radius, radius + 1, dtype=np.float32)
    x, y = np.meshgrid(r, r)
    dist = np.hypot(x, y)
    radial = np.exp(-(dist**2) / (2 * (0.55 * radius) ** 2)) * (dist <= radius + 0.5)
    theta = np.arctan2(y, x)
    kernels = []
    for i in range(_SECTORS):
        delta = np.angle(np.exp(1j * (theta - 2 * math.pi * i / _SECTORS)))
        wedge = np.clip(np.cos(delta * _SECTORS / 4), 0, None) ** 2
        wedge[radius, radius] = 1.0 / _SECTORS
        k = (radial * wedge).astype(np.float32)
        kernels.append(k / k.sum())
    return tuple(kernels)


def _kuwahara(
    img: np.ndarray, radius: int, q: float = 8.0, progress: OperatorProgress = no_progress
) -> np.ndarray:
    """Each pixel takes the mean of its sectors, weighted towards the least varied ones.

    ``progress`` gets the fraction of sectors filtered after each one.
    """
    # One 4-channel filter per sector gives the RGB mean and the mean of luminance²; the
    # luminance variance is then E[L²] - E[L]², as luminance is linear in RGB.
    lum = img @ _LUMA
    stack = np.dstack([img, lum * lum])
    means, variances = [], []
    for i, k in enumerate(_sector_kernels(radius)):
        m = cv2.filter2D(stack, -1, k, borderType=cv2.BORDER_REFLECT)
        mean_lum = m[..., :3] @ _LUMA
        means.append(m[..., :3])
        variances.append(np.maximum(m[..., 3] - mean_lum * mean_lum, 0.0))
        progress((i + 1) / (_SECTORS + 1))
    var = np.stack(variances)
    floor = var.min(axis=0) + 1e-5
    w = (floor / (var + 1e-5)) ** (q / 2)  # in (0, 1]: no overflow
    out = np.einsum("shw,shwc->hwc", w, np.stack(means)) / w.sum(axis=0)[..., None]
    return out.astype(np.float32)


def _flow_angle(img: np.ndarray, sigma: float) -> np.ndarray:
    """The direction along edges (radians), from the smoothed structure tensor."""
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    jxx = cv2.GaussianBlur(gx * gx, (0, 0), sigma)
    jxy = cv2.GaussianBlur(gx * gy, (0, 0), sigma)
    jyy = cv2.GaussianBlur(gy * gy, (0, 0), sigma)
    return (0.5 * np.arctan2(2 * jxy, jxx - jyy) + math.pi / 2).astype(np.float32)


def _smear(noise: np.ndarray, angle: np.ndarray, length: float, steps: int = 6) -> np.ndarray:
    """Line-integral convolution of ``noise`` along ``angle``: streaks like bristle marks."""
    h, w = noise.shape
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    step = max(0.5, length / (2 * steps))
    dx, dy = np.cos(angle) * step, np.sin(angle) * step
    total = noise.copy()
    for sign in (1.0, -1.0):
        for i in range(1, steps + 1):
            total += cv2.remap(
                noise,
                gx + sign * i * dx,
                gy + sign * i * dy,
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REFLECT,
            )
    total /= 2 * steps + 1
    std = float(total.std())
    return total / (std if std > 1e-6 else 1.0)
