"""``Pipeline``: the steps one style applies to an image, and ``build_pipeline`` to make one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np

from pixserve.domain import Crop, RenderItem
from pixserve.inference import EngineCache
from pixserve.inference.cache import Decision
from pixserve.inference.spec import default_batch
from pixserve.pipeline.engine_choice import model_engine
from pixserve.pipeline.faces import make_detector
from pixserve.pipeline.operators import OPERATORS
from pixserve.pipeline.steps import (
    CropStep,
    FaceStep,
    Frame,
    LimitSize,
    NeedsModels,
    OnnxModelStep,
    OperatorStep,
    Progress,
    ReportsProgress,
    ResizeToInput,
    Step,
    make_post_step,
    neural_style_step,
    upscale_model_step,
)
from pixserve.pipeline.style import Kind, Style

T = TypeVar("T")


@dataclass(frozen=True)
class Pipeline:
    """An ordered list of steps for one style. Immutable, so threads may share one."""

    style: Style
    steps: tuple[Step, ...]

    @property
    def engine(self) -> Decision | None:
        """The engine decision of the style's model step (None: no ONNX model)."""
        for step in self.steps:
            decision = getattr(step, "decision", None)
            if isinstance(decision, Decision):
                return decision
        return None

    @property
    def names(self) -> list[str]:
        """The step names in order, e.g. ``["crop", "limit_size", "model", "sharpen"]``."""
        return [step.name for step in self.steps]

    def decode_side(self, crop: Crop | None) -> int | None:
        """The size limit a photo meets before any step reads it, when nothing after it
        needs the photo's full size: the whole photo (no ``crop``, whose rectangle is in
        full-size pixels), no face step (it looks for faces in the full photo) and no step
        that returns the input's own size (``resize_to_input``). None otherwise. A step that
        reads the photo itself (``normalise_colours``: its colour statistics) then sees it at
        that size, which moves a mean not at all and a spread only by the finest detail."""
        if crop is not None or any(isinstance(s, (FaceStep, ResizeToInput)) for s in self.steps):
            return None
        first = next((step for step in self.steps if not isinstance(step, CropStep)), None)
        return first.max_side if isinstance(first, LimitSize) else None

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """The (width, height) :meth:`run` returns for a ``width``×``height`` image sent
        with a crop of that size (a crop skips the face step, whose square depends on where
        the face is). Each step says its own size, and computes its output with the same
        code, so this is the pipeline's truth, not an estimate."""
        if width < 1 or height < 1:
            raise ValueError(f"an image is at least 1×1, got {width}×{height}")
        shape = source = (height, width)
        for step in self.steps:
            shape = step.output_shape(shape, source)
        return shape[1], shape[0]

    def run(
        self,
        pixels: np.ndarray,
        *,
        crop: Crop | None = None,
        progress: Progress | None = None,
    ) -> np.ndarray:
        """Apply every step to ``pixels`` (upright RGB uint8, H×W×3) and return the result.

        ``crop`` is a rectangle in ``pixels``; one reaching outside raises
        :class:`~pixserve.core.errors.InvalidCrop`. ``progress`` receives increasing fractions
        in [0, 1], starting at 0.0 and ending at exactly 1.0.
        """
        return _Course(self.steps, pixels, crop, progress).finish(0)

    def batch_limit(self, requested: int | None) -> int:
        """How many images :meth:`run_batch` should run through the model at once:
        ``requested`` (the operator's ``PIXSERVE_BATCH_SIZE``) or the engine's own default
        (8 on a GPU, 1 on a CPU: :func:`~pixserve.inference.spec.default_batch`), and 1 where
        the model cannot take batches (a fixed batch axis, tiles, no ONNX model)."""
        step = self._batch_step()
        if step is None:
            return 1
        if requested is not None:
            return requested
        return 1 if step.decision is None else default_batch(step.decision.spec)

    def run_batch(self, items: Sequence[RenderItem]) -> list[np.ndarray | Exception]:
        """:meth:`run` for each item, the model run once for all items whose tensors have
        the same shape. Every item gets its own result or the exception :meth:`run` would
        have raised for it; one image's failure does not touch the others'.

        Only the model step is shared: the steps before and after it run per image, with
        per-image progress.
        """
        model = self._batch_step()
        if model is None or len(items) < 2:
            return [_outcome(partial(self._run_item, item)) for item in items]
        m = self.steps.index(model)
        courses = [_outcome(partial(self._start, item, m)) for item in items]
        live = [course for course in courses if isinstance(course, _Course)]
        ran = iter(model.run_together([course.frame for course in live]))
        results: list[np.ndarray | Exception] = []
        for course in courses:
            if isinstance(course, Exception):
                results.append(course)
                continue
            frame = next(ran)
            if isinstance(frame, Exception):
                results.append(frame)
                continue
            course.frame = frame
            course.advance(m)
            results.append(_outcome(partial(course.finish, m + 1)))
        return results

    def _run_item(self, item: RenderItem) -> np.ndarray:
        return self.run(item.pixels, crop=item.crop, progress=item.progress)

    def _start(self, item: RenderItem, stop: int) -> _Course:
        """``item``'s course, run up to step ``stop``."""
        course = _Course(self.steps, item.pixels, item.crop, item.progress)
        for i in range(stop):
            course.take(i)
        return course

    def _batch_step(self) -> OnnxModelStep | None:
        """The model step, when images may share its runs."""
        for step in self.steps:
            if isinstance(step, OnnxModelStep) and step.batches:
                return step
        return None


class _Course:
    """One image's way through a pipeline's steps, and its progress."""

    def __init__(
        self,
        steps: tuple[Step, ...],
        pixels: np.ndarray,
        crop: Crop | None,
        progress: Progress | None,
    ) -> None:
        if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
            raise ValueError(
                f"pipelines take RGB uint8 (H, W, 3), got {pixels.dtype} {pixels.shape}"
            )
        self.steps = steps
        self.total = sum(step.weight for step in steps)
        self.done = 0.0
        self.progress = _rising(progress) if progress is not None else None
        if self.progress is not None:
            self.progress(0.0)
        self.frame = Frame(
            pixels=pixels, source_shape=(pixels.shape[0], pixels.shape[1]), crop=crop, photo=pixels
        )

    def take(self, i: int) -> None:
        """Run step ``i`` on the frame."""
        step = self.steps[i]
        if self.progress is not None and isinstance(step, ReportsProgress):
            share = _within(self.progress, self.done / self.total, step.weight / self.total)
            self.frame = step.run(self.frame, share)
        else:
            self.frame = step(self.frame)
        self.advance(i)

    def advance(self, i: int) -> None:
        """Count step ``i`` as done."""
        self.done += self.steps[i].weight
        if self.progress is not None:
            last = i == len(self.steps) - 1
            self.progress(1.0 if last else min(self.done / self.total, 1.0))

    def finish(self, start: int) -> np.ndarray:
        """Run the steps from ``start`` on; the result."""
        for i in range(start, len(self.steps)):
            self.take(i)
        return self.frame.pixels


def _outcome(run: Callable[[], T]) -> T | Exception:
    """What ``run`` returns, or the exception it raised."""
    try:
        return run()
    except Exception as exc:
        return exc


def _rising(progress: Progress) -> Progress:
    """``progress``, told only values above the last one (a step ending at its 1.0 and the
    pipeline's own report after it are the same fraction)."""
    last = -1.0

    def report(fraction: float) -> None:
        nonlocal last
        if fraction > last:
            last = fraction
            progress(fraction)

    return report


def _within(progress: Progress, start: float, share: float) -> Progress:
    """A step's own 0..1 progress, as the pipeline's ``start`` … ``start + share``."""

    def report(fraction: float) -> None:
        progress(min(start + share * fraction, 1.0))

    return report


def build_pipeline(
    style: Style,
    engines: EngineCache,
    *,
    model_dir: Path | None = None,
    vgg_path: Path | None = None,
) -> Pipeline:
    """The pipeline for ``style``: crop → face → limit size → model → post steps.

    An ONNX style's model is loaded (once, through ``engines``) here, not on the first image;
    built-in upscalers are converted into ``model_dir`` (default: the data dir's
    ``models/``) the first time.
    """
    steps: list[Step] = [CropStep()]
    if style.face is not None:
        face = style.face
        steps.append(FaceStep(make_detector(face.detector), face.required, face.margin, face.align))
    steps += [LimitSize(style.max_side), _model_step(style, engines, model_dir, vgg_path)]
    for spec in style.post:
        step = make_post_step(spec.name, dict(spec.params))
        if isinstance(step, NeedsModels):
            step = step.bind(engines, model_dir)
        steps.append(step)
    return Pipeline(style=style, steps=tuple(steps))


def _model_step(
    style: Style, engines: EngineCache, model_dir: Path | None, vgg_path: Path | None
) -> Step:
    if style.kind is Kind.ONNX:
        assert style.model is not None  # load_bundle guarantees it for kind = "onnx"
        engine, decision = model_engine(engines, style.model)
        return OnnxModelStep(engine, style.model, decision)
    if style.kind is Kind.UPSCALER:
        assert style.upscaler is not None
        step = upscale_model_step(style.upscaler.model, engines, model_dir)
        return step.tiled(style.upscaler.tile, style.upscaler.tile_overlap)
    if style.kind is Kind.NEURAL_STYLE:
        assert style.neural_style is not None
        return neural_style_step(style.neural_style, vgg_path)
    assert style.builtin is not None
    return OperatorStep(OPERATORS[style.builtin.operator], style.builtin.params)
