"""Previews: a smaller, watermarked copy of a result, for e-mails and pay-before-HD shops.

A style declares one with a ``[preview]`` table in its ``style.toml`` (see docs/styles.md);
the worker stores the preview beside the full result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import cv2
import numpy as np
from pydantic import AfterValidator, BaseModel, Field, PlainSerializer, ValidationInfo

from pixserve.pipeline.tables import TABLE, InBundle, bundle_folder, relative_to_bundle

DEFAULT_PREVIEW_SIDE = 512


def _readable_mark(path: Path, info: ValidationInfo) -> Path:
    if bundle_folder(info) is not None:
        load_mark(path)  # fail when the bundle loads, not on the first preview
    return path


WatermarkFile = Annotated[
    Path,
    Field(strict=False),  # TOML gives a string
    AfterValidator(InBundle("watermark image")),
    AfterValidator(_readable_mark),
    PlainSerializer(relative_to_bundle, when_used="json"),
]


class PreviewSpec(BaseModel):
    """The ``[preview]`` table: the preview's longest side, and a text or image watermark."""

    model_config = TABLE

    max_side: int = Field(default=DEFAULT_PREVIEW_SIDE, ge=16, le=4096)
    watermark: str = "preview"
    #: An image in the bundle (PNG with alpha is best); wins over ``watermark``.
    watermark_image: WatermarkFile | None = None
    #: How strongly the watermark shows; 0 = none.
    opacity: float = Field(default=0.35, ge=0.0, le=1.0)


def load_mark(path: Path) -> np.ndarray:
    """Read a watermark image as RGBA uint8; ``ValueError`` if it cannot be read."""
    mark = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if mark is None or mark.ndim not in (2, 3):
        raise ValueError(f"cannot read the watermark image {path.name!r}")
    if mark.ndim == 2:
        mark = cv2.cvtColor(mark, cv2.COLOR_GRAY2BGRA)
    elif mark.shape[2] == 3:
        mark = cv2.cvtColor(mark, cv2.COLOR_BGR2BGRA)
    return np.asarray(cv2.cvtColor(mark, cv2.COLOR_BGRA2RGBA), dtype=np.uint8)


def make_preview(
    pixels: np.ndarray, spec: PreviewSpec, mark: np.ndarray | None = None
) -> np.ndarray:
    """Shrink ``pixels`` (RGB uint8) to ``spec.max_side`` and watermark it.

    ``mark`` (RGBA, from :func:`load_mark`) wins over the text; the text is tiled over the
    whole picture so cropping cannot remove it.
    """
    h, w = pixels.shape[:2]
    scale = min(spec.max_side / max(h, w), 1.0)
    if scale < 1.0:
        size = (max(round(w * scale), 1), max(round(h * scale), 1))
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    out = np.ascontiguousarray(pixels, dtype=np.uint8)
    if spec.opacity <= 0:
        return out
    if mark is not None:
        return _stamp_image(out, mark, spec.opacity)
    if spec.watermark:
        return _stamp_text(out, spec.watermark, spec.opacity)
    return out


def _stamp_text(rgb: np.ndarray, text: str, opacity: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    font = cv2.FONT_HERSHEY_DUPLEX
    (tw, th), _ = cv2.getTextSize(text, font, 1.0, 1)
    scale = max(w / 3.0 / max(tw, 1), 0.3)
    thickness = max(round(scale * 1.5), 1)
    (tw, th), base = cv2.getTextSize(text, font, scale, thickness)
    overlay = rgb.copy()
    step_x, step_y = tw + tw // 2, (th + base) * 3
    for row, y in enumerate(range(th + base, h + step_y, step_y)):
        shift = (row % 2) * (step_x // 2)
        for x in range(-shift, w, step_x):
            cv2.putText(overlay, text, (x, y), font, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
            cv2.putText(overlay, text, (x, y), font, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    blended = cv2.addWeighted(overlay, opacity, rgb, 1.0 - opacity, 0.0)
    return np.asarray(blended, dtype=np.uint8)


def _stamp_image(rgb: np.ndarray, mark: np.ndarray, opacity: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    mh, mw = mark.shape[:2]
    scale = min(0.4 * w / mw, 0.4 * h / mh)
    size = (max(round(mw * scale), 1), max(round(mh * scale), 1))
    mark = cv2.resize(mark, size, interpolation=cv2.INTER_AREA)
    mh, mw = mark.shape[:2]
    y, x = (h - mh) // 2, (w - mw) // 2
    region = rgb[y : y + mh, x : x + mw].astype(np.float32)
    alpha = mark[:, :, 3:4].astype(np.float32) / 255.0 * opacity
    region = region * (1.0 - alpha) + mark[:, :, :3].astype(np.float32) * alpha
    out = rgb.copy()
    out[y : y + mh, x : x + mw] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
    return out
