"""The photo that ships with pixserve: thumbnails are rendered from it and engines are
checked and calibrated on it. ``sample.jpg`` is a 384-px copy of scikit-image's
``astronaut`` (Eileen Collins, a NASA photo in the public domain; see
``sample.NOTICE.txt``)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from pixserve.imaging.decode import decode_image

SAMPLE = Path(__file__).with_name("sample.jpg")


@functools.cache
def _sample() -> np.ndarray:
    pixels = decode_image(SAMPLE.read_bytes(), max_bytes=1 << 20, max_pixels=1 << 20).pixels
    pixels.setflags(write=False)
    return pixels


def sample_photo() -> np.ndarray:
    """The sample photo, RGB uint8 (384 × 384); a fresh copy."""
    return _sample().copy()
