"""The ``Step`` contract and the ``Frame`` that steps pass along."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from pixserve.domain import Crop

if TYPE_CHECKING:
    from pixserve.inference import EngineCache


@dataclass(frozen=True)
class Frame:
    """The image travelling through a pipeline and what later steps need to know about it.

    ``source_shape`` is the (height, width) the caller asked about: the crop, or the whole
    image, before any resizing; ``resize_to_input`` brings the result back to it.
    """

    pixels: np.ndarray  # (H, W, 3) uint8 RGB
    source_shape: tuple[int, int]
    crop: Crop | None = None
    #: The picture the style is applied to (after the crop and face crop, before the size
    #: limit, unless the worker decoded it at that size: ``Pipeline.decode_side``), for post
    #: steps that compare the result with it; None: ``pixels`` is it.
    photo: np.ndarray | None = None

    def with_pixels(self, pixels: np.ndarray) -> Frame:
        """A copy of this frame holding ``pixels``."""
        return replace(self, pixels=pixels)


class Step(Protocol):
    """One stage of a pipeline: takes a frame, returns the next one.

    ``weight`` is the step's rough share of the run time; progress advances by it.
    ``output_shape`` says, without running, what size the step makes: the page promises
    the output size before upload, so every step must know it (and ``__call__`` should
    compute its size with it, so the two cannot disagree).
    """

    @property
    def name(self) -> str:
        """The step's name as shown in ``Pipeline.names`` (for post steps: its registry key)."""
        ...

    @property
    def weight(self) -> float:
        """Relative cost, > 0."""
        ...

    def __call__(self, frame: Frame) -> Frame:
        """Transform ``frame``; the pixels stay RGB uint8 (H, W, 3)."""
        ...

    def output_shape(self, shape: tuple[int, int], source: tuple[int, int]) -> tuple[int, int]:
        """The (height, width) this step returns for a frame of ``shape`` whose
        ``source_shape`` is ``source``."""
        ...


#: Receives the fraction of a step (or a pipeline) done so far, rising, ending at 1.0.
Progress = Callable[[float], None]


@runtime_checkable
class ReportsProgress(Protocol):
    """A step that says how far it is while it runs (a long model, tiles, passes)."""

    def run(self, frame: Frame, progress: Progress | None) -> Frame:
        """As ``__call__``, calling ``progress`` with the step's own fraction done."""
        ...


@runtime_checkable
class NeedsModels(Protocol):
    """A post step that runs a model: the pipeline binds it to the engine cache first."""

    def bind(self, engines: EngineCache, model_dir: Path | None) -> Step:
        """The runnable step, its model loaded through ``engines`` (cached in ``model_dir``)."""
        ...
