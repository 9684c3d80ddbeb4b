"""``OperatorStep``: the model step of a ``kind = "builtin"`` style."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pixserve.pipeline.operators import Operator
from pixserve.pipeline.steps.base import Frame


@dataclass(frozen=True)
class OperatorStep:
    """Runs a classical operator from ``OPERATORS`` with the bundle's parameters."""

    operator: Operator[Any]
    params: Any
    name: ClassVar[str] = "model"
    weight: ClassVar[float] = 0.9

    def __call__(self, frame: Frame) -> Frame:
        """Return the stylised frame (same size)."""
        return frame.with_pixels(self.operator(frame.pixels, self.params))
