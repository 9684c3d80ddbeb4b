"""Write the photos that ship inside registry packages into a dataset folder.

The built-in trained styles (docs/builtin-models.md) learn from these and nothing else:
scikit-image's sample photos and matplotlib's portrait of Grace Hopper. A fixed set is held
out for judging (a person, a pet, a place, a still life) and never trained on.

    .venv/bin/python scripts/registry_photos.py OUT [--longest 1024] [--enlarge]

writes OUT/train/*.png and OUT/val/*.png (photos shrunk so the longer side is at most
--longest, or with --enlarge exactly --longest; grey images become RGB).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import skimage.data
from matplotlib.cbook import get_sample_data
from PIL import Image

#: Held out: never in a training set.
HELD_OUT = ("astronaut", "chelsea", "rocket", "coffee")
TRAIN = (
    "grace_hopper",
    "camera",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "motorcycle_left",
    "motorcycle_right",
    "coins",
    "moon",
    "brick",
    "grass",
    "gravel",
    "colorwheel",
)


def load(name: str) -> np.ndarray:
    """The photo ``name`` as RGB uint8."""
    if name == "grace_hopper":
        return np.array(Image.open(get_sample_data("grace_hopper.jpg")).convert("RGB"))
    if name.startswith("motorcycle_"):
        left, right, _ = skimage.data.stereo_motorcycle()
        img = left if name.endswith("left") else right
    else:
        img = getattr(skimage.data, name)()
    img = np.asarray(img)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img[..., :3]).astype(np.uint8)


def write(out: Path, longest: int, enlarge: bool = False) -> dict[str, int]:
    """Write both splits; the number of photos in each."""
    counts = {}
    for split, names in (("train", TRAIN), ("val", HELD_OUT)):
        folder = out / split
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            img = load(name)
            h, w = img.shape[:2]
            f = longest / max(h, w) if enlarge else min(1.0, longest / max(h, w))
            if f != 1:
                interpolation = cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC
                img = cv2.resize(img, (round(w * f), round(h * f)), interpolation=interpolation)
            Image.fromarray(img).save(folder / f"{name}.png")
        counts[split] = len(names)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--longest", type=int, default=1024)
    parser.add_argument("--enlarge", action="store_true", help="enlarge smaller photos too")
    args = parser.parse_args()
    counts = write(args.out, args.longest, args.enlarge)
    print(f"wrote {counts['train']} training and {counts['val']} held-out photos to {args.out}")


if __name__ == "__main__":
    main()
