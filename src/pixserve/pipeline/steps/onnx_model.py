"""``OnnxModelStep``: the model step of a ``kind = "onnx"`` style."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pixserve.inference import Engine
from pixserve.pipeline.steps.base import Frame
from pixserve.pipeline.style import ModelSpec
from pixserve.pipeline.tensor import from_tensor, to_tensor


@dataclass(frozen=True)
class OnnxModelStep:
    """Converts the image to the model's tensor convention, runs it, and converts back."""

    engine: Engine
    spec: ModelSpec
    name: ClassVar[str] = "model"
    weight: ClassVar[float] = 0.9

    def __call__(self, frame: Frame) -> Frame:
        """Return the model's image: (H·scale, W·scale, 3) uint8 RGB."""
        batch = to_tensor(frame.pixels, self.spec)
        output = self.engine.run(batch)
        return frame.with_pixels(from_tensor(output, self.spec, frame.pixels.shape))
