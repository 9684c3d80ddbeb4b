"""What the use cases need from the layers they do not import (the style catalog, rendering).

``pipeline`` provides the real implementations; ``bootstrap`` wires them in. Keeping these
as protocols lets the web and the services run with in-memory fakes in unit tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pixserve.domain.job import Crop

ProgressFn = Callable[[float], None]


class StyleInfo(Protocol):
    """The parts of a style the services and the web need."""

    @property
    def name(self) -> str: ...

    @property
    def fast(self) -> bool: ...

    @property
    def thumbnail(self) -> Path | None: ...

    def info(self) -> dict[str, Any]:
        """The style as the catalog endpoint shows it (without URLs)."""
        ...


class StyleCatalog(Protocol):
    """The styles this node can serve."""

    def get(self, name: str) -> StyleInfo:
        """The style called ``name``; raise ``UnknownStyle`` if there is none."""
        ...

    def __iter__(self) -> Iterator[Any]: ...


class Renderer(Protocol):
    """Runs a style's pipeline on an upright RGB image."""

    def render(
        self,
        style: str,
        pixels: np.ndarray,
        *,
        crop: Crop | None = None,
        progress: ProgressFn | None = None,
    ) -> np.ndarray:
        """Return the styled image (H', W', 3) uint8."""
        ...

    def preview(self, style: str, pixels: np.ndarray) -> np.ndarray | None:
        """A smaller, watermarked copy of a result, or None if the style declares no preview."""
        ...
