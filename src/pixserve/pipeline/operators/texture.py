"""Deterministic noise textures (paper grain, pigment turbulence, brush bristles)."""

from __future__ import annotations

import cv2
import numpy as np


def grain(shape: tuple[int, ...], *, seed: int, sigma: float = 0.0) -> np.ndarray:
    """Per-pixel noise (H, W) float32 with mean 0 and std 1, optionally Gaussian-blurred."""
    h, w = shape[:2]
    noise: np.ndarray = np.random.default_rng(seed).standard_normal((h, w), dtype=np.float32)
    if sigma > 0:
        noise = cv2.GaussianBlur(noise, (0, 0), sigma)
    return _standardise(noise)


def clouds(shape: tuple[int, ...], *, seed: int, period: float, octaves: int = 3) -> np.ndarray:
    """Smooth fractal noise (H, W) float32, mean 0 and std 1; ``period`` is in pixels."""
    h, w = shape[:2]
    rng = np.random.default_rng(seed)
    total = np.zeros((h, w), np.float32)
    for octave in range(octaves):
        step = max(1.0, period / 2**octave)
        gh, gw = max(2, round(h / step) + 2), max(2, round(w / step) + 2)
        coarse = rng.standard_normal((gh, gw), dtype=np.float32)
        total += cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC) / 2**octave
    return _standardise(total)


def _standardise(noise: np.ndarray) -> np.ndarray:
    std = float(noise.std())
    return ((noise - noise.mean()) / (std if std > 1e-6 else 1.0)).astype(np.float32)
