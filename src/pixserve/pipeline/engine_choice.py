"""The engine an ONNX model of a style runs on: the server's policy, the style's own
``[model] engine`` / ``precision`` / ``min_psnr``, and probes from the sample photo.

The probes are what the fidelity floor is measured on and what int8 is calibrated on: the
photo that ships with pixserve, converted exactly as a job's image is (fixed size, range,
padding), at two sizes no larger than a tile.
"""

from __future__ import annotations

import cv2
import numpy as np

from pixserve.imaging.sample import sample_photo
from pixserve.inference import EngineCache
from pixserve.inference.cache import Decision
from pixserve.inference.engine import Engine
from pixserve.pipeline.model_spec import ModelSpec
from pixserve.pipeline.tensor import to_tensor

#: The probes' sides (height, width) before the model's padding.
PROBE_SHAPES = ((160, 224), (224, 160))


def model_engine(engines: EngineCache, spec: ModelSpec) -> tuple[Engine, Decision]:
    """The engine for ``spec``'s model, decided (and checked) once per model."""

    def probes() -> list[np.ndarray]:
        return [to_tensor(image, spec) for image in probe_images(spec)]

    return engines.resolve(
        spec.path,
        probes,
        spec.range.span,
        engine=spec.engine,
        precision=spec.precision.value if spec.precision else None,
        min_psnr=spec.min_psnr,
    )


def probe_images(spec: ModelSpec) -> list[np.ndarray]:
    """The sample photo at :data:`PROBE_SHAPES`, shrunk to fit a tile when tiles are set."""
    photo = sample_photo()
    images = []
    for h, w in PROBE_SHAPES:
        if spec.tile:
            h, w = min(h, spec.tile), min(w, spec.tile)
        images.append(cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA))
    return images
