"""``OperatorStep``: the model step of a ``kind = "builtin"`` style."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pixserve.pipeline.operators import Operator
from pixserve.pipeline.steps.base import Frame, Progress


@dataclass(frozen=True)
class OperatorStep:
    """Runs a classical operator from ``OPERATORS`` with the bundle's parameters."""

    operator: Operator[Any]
    params: Any
    name: ClassVar[str] = "model"
    weight: ClassVar[float] = 0.9

    def __call__(self, frame: Frame) -> Frame:
        """Return the stylised frame (same size)."""
        return self.run(frame, None)

    def run(self, frame: Frame, progress: Progress | None) -> Frame:
        """As :meth:`__call__`, reporting the operator's stages as they end."""
        return frame.with_pixels(self.operator(frame.pixels, self.params, progress))

    def output_shape(self, shape: tuple[int, int], source: tuple[int, int]) -> tuple[int, int]:
        """Unchanged: operators keep the size."""
        return shape
