"""In-memory stand-ins for the catalog and the renderer, for unit tests of services/web/worker."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pixserve.core.errors import UnknownStyle
from pixserve.domain.job import Crop
from pixserve.domain.render import RenderItem


@dataclass(frozen=True)
class FakeStyle:
    name: str
    fast: bool = True
    thumbnail: Path | None = None
    title: str = ""
    #: The title in other languages, by language code.
    titles: dict[str, str] = field(default_factory=dict)

    def info(self, lang: str = "en") -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.titles.get(lang) or self.title or self.name.title(),
            "description": f"{self.name} for tests",
            "kind": "builtin",
            "fast": self.fast,
            "limits": {"max_side": 1024},
        }


class FakeCatalog:
    def __init__(self, *styles: FakeStyle) -> None:
        self.styles = {s.name: s for s in styles}

    def get(self, name: str) -> FakeStyle:
        try:
            return self.styles[name]
        except KeyError:
            raise UnknownStyle(f"there is no style called {name!r}") from None

    def __iter__(self) -> Iterator[FakeStyle]:
        return iter(self.styles.values())


class InvertRenderer:
    """Inverts the (cropped) image, reporting progress; can be told to fail or to block."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fail_with: BaseException | None = None
        self.gate: threading.Event | None = None
        self.started = threading.Event()
        self.preview_side: int | None = None
        #: What decode_side answers per style (the worker then decodes a JPEG near it).
        self.decode_sides: dict[str, int] = {}
        #: Jobs per batch the style asks for, and the size of each ``render_batch`` call.
        self.batch = 1
        self.batches: list[int] = []
        #: Failures for particular images: the n-th image rendered (from 0) raises its entry.
        self.fail_image: dict[int, BaseException] = {}

    def batch_limit(self, style: str, requested: int | None = None) -> int:
        return self.batch

    def decode_side(self, style: str, crop: Crop | None) -> int | None:
        return None if crop is not None else self.decode_sides.get(style)

    def render_batch(self, style: str, items: Sequence[RenderItem]) -> list[np.ndarray | Exception]:
        """Each item rendered as ``render`` would, its failure in its place."""
        self.batches.append(len(items))
        results: list[np.ndarray | Exception] = []
        for item in items:
            try:
                results.append(
                    self.render(style, item.pixels, crop=item.crop, progress=item.progress)
                )
            except Exception as exc:
                results.append(exc)
        return results

    def render(
        self,
        style: str,
        pixels: np.ndarray,
        *,
        crop: Crop | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> np.ndarray:
        failure = self.fail_image.get(len(self.calls))
        self.calls.append(style)
        self.started.set()
        if self.gate is not None:
            self.gate.wait(10)
        if progress:
            progress(0.5)
        if self.fail_with is not None or failure is not None:
            raise failure or self.fail_with
        if crop is not None:
            pixels = pixels[crop.y : crop.y + crop.h, crop.x : crop.x + crop.w]
        if progress:
            progress(1.0)
        return (255 - pixels).astype(np.uint8)

    def output_size(self, style: str, width: int, height: int) -> tuple[int, int] | None:
        """Inverting keeps the size."""
        return width, height

    def preview(self, style: str, pixels: np.ndarray) -> np.ndarray | None:
        """Every other pixel (a half-size "preview") once ``preview_side`` is set."""
        if self.preview_side is None:
            return None
        return np.ascontiguousarray(pixels[::2, ::2])
