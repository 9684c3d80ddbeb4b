"""``dataset sketch``: photo → pencil-sketch pairs, the sketch-to-face recipe.

Each photo becomes a pair: A = its sketch, B = the photo, so a pix2pix model trained AtoB
learns to draw photos from sketches.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pixserve.training.layout import PairKind
from pixserve.training.prep.destination import Destination, OutputFormat
from pixserve.training.prep.resize import square
from pixserve.training.prep.sources import each_photo, find_sources, summarize
from pixserve.training.prep.summary import PrepSummary, Progress


def pencil_sketch(rgb: np.ndarray, blur: float | None = None) -> np.ndarray:
    """A pencil sketch of ``rgb`` (RGB uint8), grey in all three channels.

    The recipe: grey, invert, Gaussian blur, then colour-dodge the grey by the blurred
    inverse (grey / (255 - blur(255 - grey))): paper white wherever a pixel is as light as its
    neighbourhood, darker along edges. ``blur`` is the Gaussian's sigma in pixels (default:
    1/64 of the shorter side, at least 1, so the strokes scale with the image).
    """
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    sigma = blur if blur is not None else max(1.0, min(grey.shape) / 64)
    inverse = 255 - grey
    blurred = cv2.GaussianBlur(inverse, (0, 0), sigma)
    sketch = cv2.divide(grey, 255 - blurred, scale=256)  # colour dodge; saturates at 255
    return np.ascontiguousarray(np.repeat(sketch[..., None], 3, axis=2))


def make_sketch_pairs(
    src: Path,
    dst: Path,
    *,
    size: int = 256,
    layout: PairKind | str = PairKind.ALIGNED,
    blur: float | None = None,
    fmt: OutputFormat | str = OutputFormat.PNG,
    force: bool = False,
    progress: Progress | None = None,
) -> PrepSummary:
    """Write a (sketch, photo) pair for every photo under ``src`` into ``dst``.

    Photos are centre-cropped to a square and resized to ``size``² (``size`` 0: kept as
    they are). ``layout`` ``aligned`` writes one A|B image per photo (sketch left, photo
    right); ``folders`` writes ``dst/A/name`` (sketch) and ``dst/B/name`` (photo).
    Unreadable files are skipped and listed.
    """
    if size < 0:
        raise ValueError(f"size must be 0 or more, not {size}")
    kind = PairKind(layout)
    sources = find_sources(src, exclude=dst)
    out = Destination.open(dst, fmt, force=force)

    def handle(path: Path, pixels: np.ndarray) -> None:
        photo = square(pixels, size)
        out.write_pair(out.name_for(path), pencil_sketch(photo, blur), photo, kind)

    return summarize(sources, dst, each_photo(sources, handle, progress))
