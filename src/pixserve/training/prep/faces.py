"""``dataset faces``: the largest face of each photo, cropped square, levelled, resized.

The detection and the crop are the ``face`` step's own (:func:`make_detector`,
:func:`main_face`, :func:`crop_face`), so a model trained on these crops sees faces framed as
the served style will frame them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pixserve.core.errors import NoFaceFound
from pixserve.pipeline.faces import FaceDetector, make_detector
from pixserve.pipeline.steps.face import crop_face, main_face
from pixserve.training.prep.destination import Destination, OutputFormat
from pixserve.training.prep.resize import resize
from pixserve.training.prep.sources import each_photo, find_sources, summarize
from pixserve.training.prep.summary import PrepSummary, Progress, counted


def crop_faces(
    src: Path,
    dst: Path,
    *,
    size: int = 256,
    margin: float = 0.3,
    detector: str | FaceDetector = "auto",
    align: bool = True,
    fmt: OutputFormat | str = OutputFormat.PNG,
    force: bool = False,
    progress: Progress | None = None,
) -> PrepSummary:
    """Write the largest face of every photo under ``src`` as a ``size``² image in ``dst``.

    The square holds the face plus ``margin`` × its size on each side (moved or shrunk to
    stay inside the photo); with ``align`` and a detector that finds eyes (yuface), the
    photo is first turned so the eyes are level. ``detector`` is a name (``auto``,
    ``yuface``, ``haar``) or a detector. Photos without a face, and unreadable files, are
    skipped and listed. Raises :class:`DatasetError` for a bad ``src`` or ``dst``, and
    ``ImportError`` when ``yuface`` is asked for but not installed.
    """
    if size < 1:
        raise ValueError(f"size must be at least 1, not {size}")
    if margin < 0:
        raise ValueError(f"margin must not be negative, not {margin}")
    sources = find_sources(src, exclude=dst)
    finder = make_detector(detector) if isinstance(detector, str) else detector
    out = Destination.open(dst, fmt, force=force)
    found = enlarged = levelled = 0

    def handle(path: Path, pixels: np.ndarray) -> None:
        nonlocal found, enlarged, levelled
        face = main_face(finder.detect(pixels))
        if face is None:
            raise NoFaceFound(f"no face found ({finder.name} detector)")
        found += 1
        levelled += face.eyes is not None
        crop = crop_face(pixels, face, margin=margin, align=align)
        enlarged += crop.shape[0] < size
        out.write_image(out.name_for(path), resize(crop, size, size))

    skipped = each_photo(sources, handle, progress)
    notes = []
    if align and found and not levelled:
        notes.append(f"the {finder.name} detector finds no eyes, so no face was levelled")
    if enlarged:
        notes.append(f"enlarged {counted(enlarged, 'face crop')} smaller than {size}x{size}")
    return summarize(sources, dst, skipped, notes)
