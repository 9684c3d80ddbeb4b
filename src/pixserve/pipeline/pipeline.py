"""``Pipeline``: the steps one style applies to an image, and ``build_pipeline`` to make one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pixserve.domain import Crop
from pixserve.inference import EngineCache
from pixserve.inference.cache import Decision
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
    Step,
    make_post_step,
    neural_style_step,
    upscale_model_step,
)
from pixserve.pipeline.style import Kind, Style


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
        if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
            raise ValueError(
                f"pipelines take RGB uint8 (H, W, 3), got {pixels.dtype} {pixels.shape}"
            )
        total = sum(step.weight for step in self.steps)
        done = 0.0
        if progress is not None:
            progress = _rising(progress)
            progress(0.0)
        frame = Frame(
            pixels=pixels, source_shape=(pixels.shape[0], pixels.shape[1]), crop=crop, photo=pixels
        )
        for i, step in enumerate(self.steps):
            if progress is not None and isinstance(step, ReportsProgress):
                frame = step.run(frame, _within(progress, done / total, step.weight / total))
            else:
                frame = step(frame)
            done += step.weight
            if progress is not None:
                progress(1.0 if i == len(self.steps) - 1 else min(done / total, 1.0))
        return frame.pixels


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
