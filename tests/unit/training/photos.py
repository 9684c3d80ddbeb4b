"""Small real photos for the dataset tests, written to disk as JPEG or PNG files."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import cv2
import numpy as np
from matplotlib.cbook import get_sample_data
from PIL import Image
from skimage import data


def _small(rgb: np.ndarray, longest: int) -> np.ndarray:
    rgb = np.ascontiguousarray(rgb[..., :3])
    h, w = rgb.shape[:2]
    f = longest / max(h, w)
    return cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)


@cache
def photo(name: str, longest: int = 320) -> np.ndarray:
    """``astronaut`` and ``grace_hopper`` (a face each), ``coffee`` and ``chelsea`` (none),
    ``longest`` pixels on the longer side. Treat as read-only."""
    if name == "grace_hopper":
        path = get_sample_data("grace_hopper.jpg", asfileobj=False)
        rgb = np.array(Image.open(path).convert("RGB"))
    else:
        rgb = getattr(data, name)()
    out = _small(rgb, longest)
    out.flags.writeable = False
    return out


def save(path: Path, pixels: np.ndarray, **options: object) -> Path:
    """Write ``pixels`` to ``path`` in the format its suffix names (folders made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels)).save(path, **options)  # type: ignore[arg-type]
    return path


def noise(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A ``(height, width, 3)`` uint8 image of random pixels."""
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
