"""Neural upscaling: the model step of ``kind = "upscaler"`` styles, the ``upscale`` post step."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from pixserve.inference import Engine, EngineCache
from pixserve.inference.cache import Decision
from pixserve.pipeline.engine_choice import model_engine
from pixserve.pipeline.model_spec import ModelSpec
from pixserve.pipeline.steps.base import Frame, Progress, Step
from pixserve.pipeline.tiling import output_shape, run_model, tiles_per_run
from pixserve.pipeline.upscalers import UPSCALERS, get_upscaler, model_spec


@dataclass(frozen=True)
class UpscaleModelStep:
    """Runs a built-in upscaler (converted ONNX, tiled) on the frame."""

    engine: Engine
    spec: ModelSpec
    name: str = "model"
    weight: float = 0.9
    decision: Decision | None = None

    def __call__(self, frame: Frame) -> Frame:
        """Return the frame enlarged ``spec.scale`` times."""
        return self.run(frame, None)

    def run(self, frame: Frame, progress: Progress | None) -> Frame:
        """As :meth:`__call__`, reporting the fraction of tiles done after each tile."""
        per_run = tiles_per_run(self.engine, self.decision)
        pixels = run_model(self.engine, self.spec, frame.pixels, progress, tiles_per_run=per_run)
        return frame.with_pixels(pixels)

    def output_shape(self, shape: tuple[int, int], source: tuple[int, int]) -> tuple[int, int]:
        """``shape`` × the upscaler's scale."""
        return output_shape(self.spec, shape)

    def tiled(self, tile: int, overlap: int) -> UpscaleModelStep:
        """The same step with other tiling."""
        spec = self.spec.model_copy(update={"tile": tile, "tile_overlap": overlap})
        return replace(self, spec=spec)


def upscale_model_step(
    upscaler: str, engines: EngineCache, model_dir: Path | None, *, name: str = "model"
) -> UpscaleModelStep:
    """Convert (if not cached) and load ``upscaler``; the step that runs it."""
    spec = model_spec(get_upscaler(upscaler), model_dir)
    engine, decision = model_engine(engines, spec)
    return UpscaleModelStep(engine, spec, name=name, weight=0.5, decision=decision)


@dataclass(frozen=True)
class Upscale:
    """Post step: enlarge the result with a built-in upscaler (``model``, e.g.
    ``"realesrgan-animevideov3-2x"``; see ``pixserve.pipeline.upscalers.UPSCALERS``).

    Built by the registry with only its parameters; the pipeline then calls :meth:`bind`
    to load the model, so a bad name fails when the bundle loads and the model loads with
    the other models at warm-up.
    """

    model: str = "realesrgan-animevideov3-2x"
    name: ClassVar[str] = "upscale"
    weight: ClassVar[float] = 0.5

    def __post_init__(self) -> None:
        if self.model not in UPSCALERS:
            raise ValueError(f"unknown upscaler {self.model!r} (known: {', '.join(UPSCALERS)})")

    def bind(self, engines: EngineCache, model_dir: Path | None) -> Step:
        """The runnable step, with the converted model loaded."""
        return upscale_model_step(self.model, engines, model_dir, name=self.name)

    def __call__(self, frame: Frame) -> Frame:
        """Unbound: the pipeline always binds this step before running it."""
        raise RuntimeError("the upscale step runs only inside a pipeline (call bind first)")

    def output_shape(self, shape: tuple[int, int], source: tuple[int, int]) -> tuple[int, int]:
        """``shape`` × the upscaler's scale (the bound step says the same)."""
        scale = UPSCALERS[self.model].scale
        return shape[0] * scale, shape[1] * scale
