"""``OnnxModelStep``: the model step of a ``kind = "onnx"`` style."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pixserve.inference import Engine
from pixserve.inference.cache import Decision
from pixserve.pipeline.model_spec import ModelSpec
from pixserve.pipeline.steps.base import Frame, Progress
from pixserve.pipeline.tiling import output_shape, run_model


@dataclass(frozen=True)
class OnnxModelStep:
    """Converts the image to the model's tensor convention, runs it, and converts back."""

    engine: Engine
    spec: ModelSpec
    #: Which engine runs the model and why (None when built without a decision).
    decision: Decision | None = None
    name: ClassVar[str] = "model"
    weight: ClassVar[float] = 0.9

    def __call__(self, frame: Frame) -> Frame:
        """Return the model's image: (H·scale, W·scale, 3) uint8 RGB (tiled if declared)."""
        return self.run(frame, None)

    def run(self, frame: Frame, progress: Progress | None) -> Frame:
        """As :meth:`__call__`, reporting the fraction of tiles done after each tile."""
        return frame.with_pixels(run_model(self.engine, self.spec, frame.pixels, progress))

    def output_shape(self, shape: tuple[int, int], source: tuple[int, int]) -> tuple[int, int]:
        """``shape`` × ``[model] scale``."""
        return output_shape(self.spec, shape)
