"""``thumbnail.jpg``: a sample photo as the style itself renders it, for the catalog.

Torch-free. The style's own pipeline (face crop, size limit, model, post steps) runs on the
sample; the result is centre-cropped square, shrunk to :data:`THUMBNAIL_SIDE` px and saved
as a JPEG under :data:`MAX_BYTES`. The sample is the photo that ships with pixserve
(:mod:`pixserve.imaging.sample`); a caller may pass its own, such as a validation photo of
a training run.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pixserve.core.errors import NoFaceFound, PixserveError
from pixserve.imaging import encode_image
from pixserve.imaging.fit import fit_within
from pixserve.imaging.sample import sample_photo
from pixserve.inference import EngineCache
from pixserve.pipeline import Style, build_pipeline
from pixserve.pipeline.bundle import THUMBNAIL
from pixserve.pipeline.upscalers import UPSCALERS

THUMBNAIL_SIDE = 256
MAX_BYTES = 40_000
#: The sample is shrunk to this longer side (divided by the style's scale) before it runs.
WORK_SIDE = 384
_QUALITIES = (85, 75, 65, 55, 45)


def render_thumbnail(
    style: Style,
    sample: np.ndarray | None = None,
    *,
    engines: EngineCache | None = None,
    model_dir: Path | None = None,
) -> bytes:
    """JPEG bytes of ``sample`` (default :func:`sample_photo`) through ``style``'s pipeline:
    square, :data:`THUMBNAIL_SIDE` px, at most :data:`MAX_BYTES` when quality 45 allows.

    A style that enlarges (``[model] scale``, an upscaler) gets a centre detail of the
    sample, so the thumbnail shows what it adds. Raises whatever the pipeline raises, e.g.
    :class:`~pixserve.core.errors.NoFaceFound` for a face style and a sample without one.
    """
    photo = sample if sample is not None else sample_photo()
    if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
        raise ValueError(f"a sample must be RGB uint8 (H, W, 3), got {photo.dtype} {photo.shape}")
    photo = fit_within(photo, WORK_SIDE)
    scale = _scale(style)
    if scale > 1:
        photo = _centre_square(photo, max(WORK_SIDE // scale, 16))
    pipeline = build_pipeline(style, engines or EngineCache(), model_dir=model_dir)
    result = _centre_square(pipeline.run(photo))
    shrinking = result.shape[0] > THUMBNAIL_SIDE
    small = cv2.resize(
        result,
        (THUMBNAIL_SIDE, THUMBNAIL_SIDE),
        interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC,
    )
    for quality in _QUALITIES:
        data = encode_image(small, "jpeg", quality=quality)
        if len(data) <= MAX_BYTES:
            break
    return data


def write_thumbnail(style: Style, sample: np.ndarray | None = None) -> str | None:
    """Write ``thumbnail.jpg`` into ``style``'s bundle; return None, or why there is none.

    A thumbnail is a nicety: no rendering failure is raised, so an import never fails
    because of its sample photo.
    """
    try:
        data = render_thumbnail(style, sample)
    except NoFaceFound:
        return "the sample photo has no face, and this style needs one"
    except PixserveError as exc:
        return f"the sample photo did not render: {exc.message} ({exc.code})"
    except Exception as exc:  # any failure of the model or the steps: report, do not raise
        return f"the sample photo did not render: {type(exc).__name__}: {exc}"
    (style.path / THUMBNAIL).write_bytes(data)
    return None


def _scale(style: Style) -> int:
    if style.model is not None:
        return style.model.scale
    if style.upscaler is not None:
        return UPSCALERS[style.upscaler.model].scale
    return 1


def _centre_square(rgb: np.ndarray, side: int | None = None) -> np.ndarray:
    h, w = rgb.shape[:2]
    side = min(h, w, side or max(h, w))
    y, x = (h - side) // 2, (w - side) // 2
    return np.ascontiguousarray(rgb[y : y + side, x : x + side])
