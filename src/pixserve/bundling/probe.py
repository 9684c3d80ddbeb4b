"""The probe image an import is verified on: deterministic, smooth with fine detail."""

from __future__ import annotations

import numpy as np


def probe_rgb(height: int, width: int, seed: int = 0) -> np.ndarray:
    """An RGB uint8 (H, W, 3) image: gradients, a disc, stripes and a little noise."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 255 * x / max(width - 1, 1)
    g = 255 * y / max(height - 1, 1)
    disc = ((x - width / 2) ** 2 + (y - height / 2) ** 2) < (min(height, width) / 3) ** 2
    b = np.where(disc, 220.0, 40.0) + 30 * np.sin(x / 3.0)
    noise = np.random.default_rng(seed).normal(0, 8, (height, width, 3))
    img = np.stack([r, g, b], axis=2) + noise
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def round_up(value: int, multiple: int) -> int:
    """``value`` rounded up to a multiple of ``multiple``."""
    return -(-value // multiple) * multiple
