"""``OPERATORS``: every classical operator a ``kind = "builtin"`` bundle may name."""

from __future__ import annotations

from typing import Any

from pixserve.pipeline.operators.base import Operator
from pixserve.pipeline.operators.cartoon import CartoonParams, cartoon
from pixserve.pipeline.operators.oil import OilParams, oil
from pixserve.pipeline.operators.pencil import PencilParams, pencil
from pixserve.pipeline.operators.watercolor import WatercolorParams, watercolor

OPERATORS: dict[str, Operator[Any]] = {
    "cartoon": Operator(cartoon, CartoonParams, "flat colours and ink outlines"),
    "pencil": Operator(pencil, PencilParams, "graphite or coloured pencil sketch"),
    "watercolor": Operator(watercolor, WatercolorParams, "soft washes on textured paper"),
    "oil": Operator(oil, OilParams, "oil paint brush strokes with impasto"),
}
