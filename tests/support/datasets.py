"""Photos and tiny training sets from the images that ship with scikit-image and matplotlib.

Nothing is downloaded. :func:`photo` gives small real photos (two with a face), :func:`save`
writes any pixels to a file, the ``write_*`` functions lay out small datasets.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import cv2
import numpy as np
from matplotlib.cbook import get_sample_data
from PIL import Image

from tests.support import images

PHOTOS = ("astronaut", "chelsea", "coffee")


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
        rgb = images.photo(name)
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


def small_photos(n: int, side: int = 48) -> list[np.ndarray]:
    """``n`` different small RGB photos: crops of the test photos, some mirrored."""
    out = []
    for i in range(n):
        img = images.photo(PHOTOS[i % len(PHOTOS)])
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
