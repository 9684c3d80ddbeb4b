"""Classical image operators for ``kind = "builtin"`` styles, found by name in ``OPERATORS``."""

from pixserve.pipeline.operators.base import Operator, OperatorProgress
from pixserve.pipeline.operators.cartoon import CartoonParams
from pixserve.pipeline.operators.oil import OilParams
from pixserve.pipeline.operators.pencil import PencilParams
from pixserve.pipeline.operators.registry import OPERATORS
from pixserve.pipeline.operators.watercolor import WatercolorParams

__all__ = [
    "OPERATORS",
    "CartoonParams",
    "OilParams",
    "Operator",
    "OperatorProgress",
    "PencilParams",
    "WatercolorParams",
]
