"""Where the faces are in an upload, so the page can start its crop box on the main one.

The detector is the one the pipeline's face step uses (``pipeline/faces.py``), passed in by
the composition root; the upload is decoded with the same limits as a job submission, so a
bad file gets the same error code here as there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from pixserve.core.settings import Settings
from pixserve.services.ports import DetectedFace, FaceDetector
from pixserve.services.uploads import decode_upload


@dataclass(frozen=True)
class FaceBox:
    """A face's box in the upright image, clipped to it, and the detector's score (0–1)."""

    x: int
    y: int
    width: int
    height: int
    score: float


@dataclass(frozen=True)
class FacesFound:
    """The upright image's size and its faces, largest first."""

    width: int
    height: int
    faces: tuple[FaceBox, ...]


class FaceService:
    """Finds faces in uploaded images.

    ``detector`` builds the detector on first use (loading it costs a little, and a node
    whose page never asks pays nothing). Detection runs one image at a time: detectors keep
    state between calls and are not documented as thread-safe.
    """

    def __init__(self, detector: Callable[[], FaceDetector], settings: Settings) -> None:
        self._make = detector
        self._detector: FaceDetector | None = None
        self._lock = threading.Lock()
        self.settings = settings

    def find(self, data: bytes) -> FacesFound:
        """Decode ``data`` (EXIF orientation applied) and return its faces, largest first
        (the face step's main face comes first), boxes in upright pixels; raise the
        ``ImageError`` of a bad file."""
        decoded = decode_upload(data, self.settings)
        width, height = decoded.size
        with self._lock:
            if self._detector is None:
                self._detector = self._make()
            found = list(self._detector.detect(decoded.pixels))
        boxes = [box for face in found if (box := _clipped(face, width, height)) is not None]
        boxes.sort(key=lambda b: (b.width * b.height, b.score), reverse=True)
        return FacesFound(width, height, tuple(boxes))


def _clipped(face: DetectedFace, width: int, height: int) -> FaceBox | None:
    """``face``'s box inside the image (detectors may reach past an edge); None if nothing
    of it is inside."""
    x, y, w, h = face.box
    x0, y0 = max(int(x), 0), max(int(y), 0)
    x1, y1 = min(int(x + w), width), min(int(y + h), height)
    if x1 <= x0 or y1 <= y0:
        return None
    return FaceBox(x0, y0, x1 - x0, y1 - y0, min(max(float(face.score), 0.0), 1.0))
