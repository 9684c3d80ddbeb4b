"""``OnnxModelStep``: the model step of a ``kind = "onnx"`` style."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from pixserve.core.errors import ModelError
from pixserve.inference import Engine
from pixserve.inference.cache import Decision
from pixserve.pipeline.model_spec import ModelSpec
from pixserve.pipeline.steps.base import Frame, Progress
from pixserve.pipeline.tensor import from_tensor, to_tensor
from pixserve.pipeline.tiling import output_shape, run_model, tiles_per_run


@dataclass(frozen=True)
class OnnxModelStep:
    """Converts the image to the model's tensor convention, runs it, and converts back."""

    engine: Engine
    spec: ModelSpec
    #: Which engine runs the model and why (None when built without a decision).
    decision: Decision | None = None
    name: ClassVar[str] = "model"
    weight: ClassVar[float] = 0.9

    def __call__(self, frame: Frame) -> Frame:
        """Return the model's image: (H·scale, W·scale, 3) uint8 RGB (tiled if declared)."""
        return self.run(frame, None)

    def run(self, frame: Frame, progress: Progress | None) -> Frame:
        """As :meth:`__call__`, reporting the fraction of tiles done after each tile."""
        per_run = tiles_per_run(self.engine, self.decision)
        pixels = run_model(self.engine, self.spec, frame.pixels, progress, tiles_per_run=per_run)
        return frame.with_pixels(pixels)

    def output_shape(self, shape: tuple[int, int], source: tuple[int, int]) -> tuple[int, int]:
        """``shape`` × ``[model] scale``."""
        return output_shape(self.spec, shape)

    @property
    def batches(self) -> bool:
        """Whether images may share a model run (:meth:`run_together`): the model takes
        batches of any size and is not tiled."""
        return self.engine.accepts_batches and not self.spec.tile

    def run_together(self, frames: Sequence[Frame]) -> list[Frame | Exception]:
        """Each frame's model image, as :meth:`__call__` makes it, from one model run per
        tensor shape: frames whose tensors have the same shape run as one batch (N, ...).

        What fails fails alone: a frame's own conversion its frame, a run its batch. The
        failure takes the frame's place, to be raised for that image by the caller.
        """
        done: dict[int, Frame | Exception] = {}
        groups: dict[tuple[int, ...], list[tuple[int, np.ndarray]]] = {}
        for i, frame in enumerate(frames):
            try:
                tensor = to_tensor(frame.pixels, self.spec)
            except Exception as exc:
                done[i] = exc
                continue
            groups.setdefault(tensor.shape, []).append((i, tensor))
        for members in groups.values():
            indices = [i for i, _ in members]
            batch = np.concatenate([tensor for _, tensor in members])
            members.clear()  # the batch holds the pixels now
            try:
                outputs = self._split(self.engine.run(batch), len(indices))
            except Exception as exc:
                done.update((i, exc) for i in indices)
                continue
            finally:
                del batch
            for i, output in zip(indices, outputs, strict=True):
                try:
                    pixels = from_tensor(output, self.spec, frames[i].pixels.shape)
                    done[i] = frames[i].with_pixels(pixels)
                except Exception as exc:
                    done[i] = exc
        return [done[i] for i in range(len(frames))]

    @staticmethod
    def _split(output: np.ndarray, n: int) -> list[np.ndarray]:
        """A batch's output as ``n`` outputs of one (a lone image's output as it is)."""
        if n == 1:
            return [output]
        if output.ndim != 4 or output.shape[0] != n:
            raise ModelError(f"model output has shape {output.shape} for a batch of {n} images")
        return [output[k : k + 1] for k in range(n)]
