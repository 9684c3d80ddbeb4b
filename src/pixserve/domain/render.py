"""``RenderItem``: one image of a batch rendered together (see ``Renderer.render_batch``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pixserve.domain.job import Crop


@dataclass(frozen=True)
class RenderItem:
    """An upright RGB uint8 image (H, W, 3), the rectangle of it to style, and whom to tell
    the fraction done (rising, 0.0 to 1.0)."""

    pixels: np.ndarray
    crop: Crop | None = None
    progress: Callable[[float], None] | None = None
