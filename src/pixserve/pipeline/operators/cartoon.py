"""Cartoon: flat colour areas with bold ink outlines, like a comic."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pixserve.imaging.fit import fit_within
from pixserve.pipeline.operators.base import OperatorProgress
from pixserve.pipeline.operators.scale import odd, resize_to, unit

_WORK_SIDE = 512  # the bilateral passes run on a copy this size: their cost grows with radius


@dataclass(frozen=True)
class CartoonParams:
    """``colors``: palette size; ``smoothing``: bilateral passes scale; ``edges``: ink weight."""

    colors: int = 16
    smoothing: float = 1.0
    edges: float = 1.0

    def __post_init__(self) -> None:
        if not 2 <= self.colors <= 64:
            raise ValueError("colors must be between 2 and 64")
        if not 0 <= self.smoothing <= 4 or not 0 <= self.edges <= 4:
            raise ValueError("smoothing and edges must be between 0 and 4")


def cartoon(rgb: np.ndarray, p: CartoonParams, progress: OperatorProgress) -> np.ndarray:
    """Edge-preserving smoothing, a k-means palette in Lab, and dark size-scaled outlines."""
    u = unit(rgb)
    smooth = _smooth(rgb, p.smoothing)
    progress(0.2)
    flat = _quantise(smooth, p.colors)
    progress(0.75)
    if p.edges <= 0:
        return flat
    ink = _ink(smooth, u, p.edges)  # (H, W) float32, 1 = full ink
    progress(0.9)
    dark = flat.astype(np.float32) * 0.18 + 8.0  # ink takes a deep shade of the colour under it
    out = flat.astype(np.float32) * (1.0 - ink[..., None]) + dark * ink[..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _smooth(rgb: np.ndarray, strength: float) -> np.ndarray:
    small = fit_within(rgb, _WORK_SIDE)
    us = unit(small)
    passes = max(1, round(5 * strength)) if strength > 0 else 0
    for _ in range(passes):
        small = cv2.bilateralFilter(small, odd(9 * us, 3), 28.0, 6.0 * us)
    return resize_to(small, rgb.shape)


def _quantise(rgb: np.ndarray, k: int) -> np.ndarray:
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)
    step = max(1, lab.shape[0] // 20_000)
    centres = _kmeans(lab[::step], k)
    labels = _nearest(lab, centres)
    # Cartoons are vivid: push the palette's chroma (a, b around 128) out a little.
    centres[:, 1:] = 128.0 + (centres[:, 1:] - 128.0) * 1.25
    palette = np.clip(centres + 0.5, 0, 255).astype(np.uint8)
    flat = palette[labels].reshape(rgb.shape)
    return cv2.cvtColor(flat, cv2.COLOR_LAB2RGB)


def _kmeans(samples: np.ndarray, k: int, iterations: int = 12) -> np.ndarray:
    # Deterministic farthest-point start, so small but distinct hues (eyes, a flag) get a
    # colour of their own instead of being averaged into a big neighbour.
    centres = np.empty((k, samples.shape[1]), np.float32)
    centres[0] = samples.mean(axis=0)
    gap = ((samples - centres[0]) ** 2).sum(axis=1)
    for i in range(1, k):
        centres[i] = samples[int(gap.argmax())]
        gap = np.minimum(gap, ((samples - centres[i]) ** 2).sum(axis=1))
    for _ in range(iterations):
        labels = _nearest(samples, centres)
        for i in range(k):
            members = samples[labels == i]
            if len(members):
                centres[i] = members.mean(axis=0)
    return centres


def _nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    # |p - c|² = |p|² - 2 p·c + |c|²; |p|² is the same for every centre, so it is left out.
    scores = points @ (-2.0 * centres.T) + (centres**2).sum(axis=1)
    return np.asarray(scores.argmin(axis=1))


def _ink(smooth: np.ndarray, u: float, weight: float) -> np.ndarray:
    grey = cv2.cvtColor(smooth, cv2.COLOR_RGB2GRAY)
    grey = cv2.medianBlur(grey, odd(5 * u, 3))
    block = odd(11 * u, 3)
    lines = cv2.adaptiveThreshold(
        grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 5
    )
    # Drop specks: keep only line pieces with some length.
    _, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= max(4, round(12 * u * u))
    keep[0] = False
    lines = np.where(keep[labels], 255, 0).astype(np.uint8)
    thickness = max(1, round(1.2 * u * weight))
    if thickness > 1:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (thickness, thickness))
        lines = cv2.dilate(lines, kernel)
    ink = lines.astype(np.float32) / 255.0
    return cv2.GaussianBlur(ink, (0, 0), 0.5 * max(1.0, u))
