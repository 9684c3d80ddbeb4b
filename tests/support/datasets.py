"""Tiny training sets built from the photos that ship with scikit-image (no downloads)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from tests.support.images import photo

PHOTOS = ("astronaut", "chelsea", "coffee")


def small_photos(n: int, side: int = 48) -> list[np.ndarray]:
    """``n`` different small RGB photos: crops of the test photos, some mirrored."""
    out = []
    for i in range(n):
        img = photo(PHOTOS[i % len(PHOTOS)])
        h, w = img.shape[:2]
        s = min(h, w) - 40 * (i // len(PHOTOS))
        crop = img[(h - s) // 2 : (h + s) // 2, (w - s) // 2 : (w + s) // 2]
        if (i // len(PHOTOS)) % 2:
            crop = crop[:, ::-1]
        out.append(cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA))
    return out


def write_photos(folder: Path, n: int, side: int = 48) -> list[Path]:
    """``n`` photos as PNG files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, img in enumerate(small_photos(n, side)):
        path = folder / f"photo{i:02d}.png"
        Image.fromarray(img).save(path)
        paths.append(path)
    return paths


def write_aligned(folder: Path, n: int, side: int = 48) -> None:
    """Aligned A|B pairs: A = the photo in grey, B = the photo."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, img in enumerate(small_photos(n, side)):
        grey = np.repeat(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
        Image.fromarray(np.concatenate([grey, img], axis=1)).save(folder / f"pair{i:02d}.png")


def write_unaligned(root: Path, n: int, side: int = 48) -> None:
    """``trainA/`` photos and ``trainB/`` their colour negatives, in another order."""
    imgs = small_photos(n, side)
    for sub in ("trainA", "trainB"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i, img in enumerate(imgs):
        Image.fromarray(img).save(root / "trainA" / f"a{i:02d}.png")
        Image.fromarray(255 - imgs[(i + 1) % n]).save(root / "trainB" / f"b{i:02d}.jpg")
