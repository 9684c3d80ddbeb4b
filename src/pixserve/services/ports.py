"""What the use cases need from the layers they do not import (the style catalog, rendering,
the face detector).

``pipeline`` provides the real implementations; ``bootstrap`` wires them in. Keeping these
as protocols lets the web and the services run with in-memory fakes in unit tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pixserve.core.i18n import DEFAULT_LANGUAGE
from pixserve.domain.job import Crop
from pixserve.domain.render import RenderItem

ProgressFn = Callable[[float], None]


class StyleInfo(Protocol):
    """The parts of a style the services and the web need."""

    @property
    def name(self) -> str: ...

    @property
    def fast(self) -> bool: ...

    @property
    def thumbnail(self) -> Path | None: ...

    def info(self, lang: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
        """The style as the catalog endpoint shows it (without URLs), its title and
        description in ``lang`` (English where the style has no translation)."""
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

    def batch_limit(self, style: str, requested: int | None = None) -> int:
        """How many jobs of ``style`` to render together: ``requested`` (the operator's
        setting) or the style's engine's own default; 1 where the style cannot batch."""
        ...

    def render_batch(self, style: str, items: Sequence[RenderItem]) -> list[np.ndarray | Exception]:
        """Each item's styled image, or the exception ``render`` would have raised for it."""
        ...

    def preview(self, style: str, pixels: np.ndarray) -> np.ndarray | None:
        """A smaller, watermarked copy of a result, or None if the style declares no preview."""
        ...

    def decode_side(self, style: str, crop: Crop | None) -> int | None:
        """The longer side ``style`` shrinks a photo to before anything looks at it (so it
        may be decoded at about that size); None when the full size matters."""
        ...

    def output_size(self, style: str, width: int, height: int) -> tuple[int, int] | None:
        """The (width, height) ``style`` returns for a ``width``×``height`` picture sent with
        a crop; None when the style cannot run on this node."""
        ...


class DetectedFace(Protocol):
    """A face a detector found: its box ``(x, y, w, h)`` in the image's pixels, a score."""

    @property
    def box(self) -> tuple[int, int, int, int]: ...

    @property
    def score(self) -> float: ...


class FaceDetector(Protocol):
    """Finds faces in an upright RGB uint8 image (the face step's detector)."""

    def detect(self, rgb: np.ndarray) -> Sequence[DetectedFace]:
        """Every face found, in no particular order."""
        ...
