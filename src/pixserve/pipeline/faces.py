"""Face detectors for the ``face`` step: ``FACE_DETECTORS`` and the ``Face`` they find.

``yuface`` (libfacedetection's CNN, BSD licence, in the ``faces`` extra) finds faces and
five landmarks; OpenCV's Haar cascade (always installed) is the fallback and finds boxes
only. ``auto`` picks yuface when it is installed.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

log = logging.getLogger(__name__)

#: Detection runs on a copy whose longer side is at most this (both detectors slow down
#: and yuface warns above ~960 px); boxes are scaled back to the full image.
DETECT_SIDE = 800


@dataclass(frozen=True)
class Face:
    """A face in image coordinates: box ``(x, y, w, h)``, a score, and the eye centres
    (left one in the image first) when the detector finds landmarks."""

    box: tuple[int, int, int, int]
    score: float
    eyes: tuple[tuple[float, float], tuple[float, float]] | None = None

    @property
    def area(self) -> int:
        """Box area in pixels."""
        return self.box[2] * self.box[3]


class FaceDetector(Protocol):
    """Finds faces in an RGB uint8 image."""

    name: str

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """Every face found, in no particular order."""
        ...


def _shrink(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    h, w = rgb.shape[:2]
    factor = min(1.0, DETECT_SIDE / max(h, w))
    if factor == 1.0:
        return rgb, 1.0
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), factor


class YuFaceDetector:
    """libfacedetection through the ``yuface`` package; ``threshold`` is its confidence."""

    name = "yuface"

    def __init__(self, threshold: float = 0.6) -> None:
        import yuface  # the faces extra; imported here so the fallback works without it

        self._detect = yuface.detect
        self.threshold = threshold

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """Faces with their eye landmarks."""
        small, factor = _shrink(rgb)
        bgr = np.ascontiguousarray(small[..., ::-1])
        confs, boxes, marks = self._detect(bgr, conf=self.threshold)
        faces = []
        for conf, box, mark in zip(confs, boxes, marks, strict=True):
            x, y, w, h = (round(float(v) / factor) for v in box)
            points = sorted(
                (
                    (float(mark[0]) / factor, float(mark[1]) / factor),
                    (float(mark[2]) / factor, float(mark[3]) / factor),
                )
            )
            faces.append(Face((x, y, w, h), float(conf) / 100.0, (points[0], points[1])))
        return faces


class HaarDetector:
    """OpenCV's frontal-face Haar cascade: boxes, no landmarks."""

    name = "haar"

    def __init__(self) -> None:
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise RuntimeError(f"cannot load the Haar cascade {path}")

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """Faces at least a tenth of the shorter side, with 6 neighbours agreeing."""
        small, factor = _shrink(rgb)
        grey = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
        side = max(24, min(grey.shape) // 10)
        found = self._cascade.detectMultiScale(
            grey, scaleFactor=1.1, minNeighbors=6, minSize=(side, side)
        )
        return [
            Face(tuple(round(float(v) / factor) for v in box), 1.0)  # type: ignore[arg-type]
            for box in found
        ]


FACE_DETECTORS: dict[str, Callable[[], FaceDetector]] = {
    "yuface": YuFaceDetector,
    "haar": HaarDetector,
}


def make_detector(name: str = "auto") -> FaceDetector:
    """The detector ``name`` (``auto``: yuface if installed, else Haar)."""
    if name == "auto":
        name = "yuface" if importlib.util.find_spec("yuface") is not None else "haar"
        if name == "haar":
            log.warning("yuface is not installed (pip install 'pixserve[faces]'); using Haar")
    return FACE_DETECTORS[name]()
