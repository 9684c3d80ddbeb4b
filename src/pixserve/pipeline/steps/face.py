"""``FaceStep``: find the main face, optionally level the eyes, and crop around it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import cv2
import numpy as np

from pixserve.core.errors import NoFaceFound
from pixserve.pipeline.faces import Face, FaceDetector
from pixserve.pipeline.steps.base import Frame


@dataclass(frozen=True)
class FaceStep:
    """Crops the frame to its largest face plus ``margin`` × the face size on every side
    (a square, moved or shrunk to stay inside the image). With ``align``, the image is
    first rotated about the eyes so they are level. No face: :class:`NoFaceFound` when
    ``required``, else the frame unchanged. A frame the user cropped (``frame.crop``) is
    left as it is: the person chose the region (a page's cropper starts on the face)."""

    detector: FaceDetector
    required: bool = True
    margin: float = 0.5
    align: bool = False
    name: ClassVar[str] = "face"
    weight: ClassVar[float] = 0.05

    def __call__(self, frame: Frame) -> Frame:
        """Return the face crop (or the frame itself when no face is needed)."""
        if frame.crop is not None:
            return frame
        face = main_face(self.detector.detect(frame.pixels))
        if face is None:
            if self.required:
                raise NoFaceFound()
            return frame
        crop = crop_face(frame.pixels, face, margin=self.margin, align=self.align)
        h, w = crop.shape[:2]
        return Frame(pixels=crop, source_shape=(h, w), crop=frame.crop, photo=crop)

    def output_shape(self, shape: tuple[int, int], source: tuple[int, int]) -> tuple[int, int]:
        """Unchanged: sizes are asked for an image sent with a crop, which skips this step
        (without one, the square around the face depends on where the face is)."""
        return shape


def main_face(faces: Sequence[Face]) -> Face | None:
    """The largest of ``faces`` (the most confident among equals); None when there is none."""
    return max(faces, key=lambda f: (f.area, f.score), default=None)


def crop_face(pixels: np.ndarray, face: Face, *, margin: float, align: bool) -> np.ndarray:
    """The square around ``face`` plus ``margin`` × the face size on every side, moved or
    shrunk to stay inside ``pixels``. With ``align`` and eye landmarks, the image is first
    rotated about the eyes so they are level. Returns a C-contiguous (S, S, 3) copy."""
    if align and face.eyes is not None:
        pixels, face = _level_eyes(pixels, face)
    x, y, w, h = _square_box(face, margin, pixels.shape[1], pixels.shape[0])
    return np.ascontiguousarray(pixels[y : y + h, x : x + w])


def _square_box(face: Face, margin: float, width: int, height: int) -> tuple[int, int, int, int]:
    fx, fy, fw, fh = face.box
    side = min(round(max(fw, fh) * (1 + 2 * margin)), width, height)
    cx, cy = fx + fw / 2, fy + fh / 2
    x = int(min(max(round(cx - side / 2), 0), width - side))
    y = int(min(max(round(cy - side / 2), 0), height - side))
    return x, y, side, side


def _level_eyes(pixels: np.ndarray, face: Face) -> tuple[np.ndarray, Face]:
    assert face.eyes is not None
    (lx, ly), (rx, ry) = face.eyes
    angle = math.degrees(math.atan2(ry - ly, rx - lx))
    centre = ((lx + rx) / 2, (ly + ry) / 2)
    matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
    h, w = pixels.shape[:2]
    rotated = cv2.warpAffine(
        pixels, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    fx, fy, fw, fh = face.box
    cx, cy = matrix @ np.array([fx + fw / 2, fy + fh / 2, 1.0])
    box = (round(cx - fw / 2), round(cy - fh / 2), fw, fh)
    return rotated, Face(box, face.score, None)
