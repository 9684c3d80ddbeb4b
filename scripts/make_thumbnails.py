"""Render ``thumbnail.jpg`` for every built-in style bundle from a sample photo.

Usage: ``.venv/bin/python scripts/make_thumbnails.py [--photo astronaut|chelsea] [--size 256]``

The photo comes from scikit-image (a dev dependency). Each style's pipeline runs on a square
crop of it at 512 px, and the result is shrunk to ``--size`` and saved as JPEG (quality 85)
into the bundle, next to its ``style.toml``. Re-run it after changing an operator.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data

from pixserve.inference import EngineCache
from pixserve.pipeline import BUILTIN_DIR, Catalog, Kind, build_pipeline
from pixserve.pipeline.bundle import THUMBNAIL
from pixserve.pipeline.upscalers import UPSCALERS

# Square crops (y0, y1, x0, x1) that frame each photo's subject.
PHOTOS = {
    "astronaut": (lambda: data.astronaut(), (0, 420, 60, 480)),
    "chelsea": (lambda: data.chelsea(), (0, 300, 60, 360)),
}
WORK_SIDE = 512


def sample(photo: str) -> np.ndarray:
    """The named photo, cropped square and resized to ``WORK_SIDE``: RGB uint8."""
    load, (y0, y1, x0, x1) = PHOTOS[photo]
    rgb = np.ascontiguousarray(load()[y0:y1, x0:x1, :3])
    return cv2.resize(rgb, (WORK_SIDE, WORK_SIDE), interpolation=cv2.INTER_CUBIC)


def main() -> None:
    """Write one thumbnail per built-in bundle and print each file's size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", choices=sorted(PHOTOS), default="astronaut")
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    pixels = sample(args.photo)
    engines = EngineCache()
    for style in Catalog.load([], strict=True, builtin_dir=BUILTIN_DIR):
        source = pixels
        if style.kind is Kind.UPSCALER and style.upscaler is not None:
            # An upscaler's thumbnail shows a detail (the face) enlarged to thumbnail size.
            side = args.size // UPSCALERS[style.upscaler.model].scale
            source = pixels[90 : 90 + side, 200 : 200 + side]
        result = build_pipeline(style, engines).run(source)
        small = cv2.resize(result, (args.size, args.size), interpolation=cv2.INTER_AREA)
        target = Path(style.path) / THUMBNAIL
        Image.fromarray(small).save(target, format="JPEG", quality=85, optimize=True)
        print(f"{target}: {target.stat().st_size / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
