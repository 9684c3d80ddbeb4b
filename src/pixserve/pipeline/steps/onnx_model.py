"""``OnnxModelStep``: the model step of a ``kind = "onnx"`` style."""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from pixserve.core.errors import ModelError
from pixserve.core.tensor_io import Layout
from pixserve.inference import Engine
from pixserve.inference.cache import Decision, psnr
from pixserve.pipeline.engine_choice import probe_images
from pixserve.pipeline.model_spec import ModelSpec
from pixserve.pipeline.steps.base import Frame, Progress
from pixserve.pipeline.tensor import from_tensor, to_tensor
from pixserve.pipeline.tiling import output_shape, run_model, tiles_per_run

log = logging.getLogger(__name__)

#: Images that share a model run are padded (reflecting, at the bottom and right) to a
#: common size in steps of this many pixels, and their outputs cropped back, so photos of
#: different sizes can share a batch. Where padding moves a model's output (instance
#: normalisation sees the padded pixels), :attr:`OnnxModelStep.buckets` checks it first.
BUCKET = 64
#: Padding to a bucket must leave the output this close to the unpadded one (PSNR, dB of
#: the output range, on the sample photo), or only images of one exact size share a run.
BUCKET_MIN_PSNR = 40.0


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
        tensor shape: frames whose tensors have the same shape run as one batch (N, ...),
        and so do frames of the same :data:`BUCKET` where :attr:`buckets` allows it.

        What fails fails alone: a frame's own conversion its frame, a run its batch. The
        failure takes the frame's place, to be raised for that image by the caller.
        """
        done: dict[int, Frame | Exception] = {}
        groups: dict[tuple[int, ...], list[tuple[int, np.ndarray]]] = {}
        tensors: list[tuple[int, np.ndarray]] = []
        for i, frame in enumerate(frames):
            try:
                tensors.append((i, to_tensor(frame.pixels, self.spec)))
            except Exception as exc:
                done[i] = exc
        mixed = len({tensor.shape for _, tensor in tensors}) > 1 and self.buckets
        for i, tensor in tensors:
            groups.setdefault(self._bucket(tensor.shape) if mixed else tensor.shape, []).append(
                (i, tensor)
            )
        for bucket, members in groups.items():
            indices = [i for i, _ in members]
            alike = len({tensor.shape for _, tensor in members}) == 1
            shape = members[0][1].shape if alike else bucket  # padded only where it helps
            batch: np.ndarray | None = None
            try:
                batch = np.concatenate([self._pad(tensor, shape) for _, tensor in members])
                members.clear()  # the batch holds the pixels now
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

    @functools.cached_property
    def buckets(self) -> bool:
        """Whether images of different sizes may share a run, padded to a common size:
        the sample photo, padded to its bucket, comes out within :data:`BUCKET_MIN_PSNR` of
        its unpadded self. Checked once, when such a batch first comes; where the check's
        own runs fail, only equal sizes share runs."""
        photo = probe_images(self.spec)[0]
        tensor = to_tensor(photo, self.spec)
        try:
            exact = from_tensor(self.engine.run(tensor), self.spec, photo.shape)
            padded = self.engine.run(self._pad(tensor, self._bucket(tensor.shape)))
            padded = from_tensor(padded, self.spec, photo.shape)
        except Exception:  # the batch's own runs will say what is wrong, per image
            return False
        fidelity = psnr(exact, padded, 255.0)
        if fidelity < BUCKET_MIN_PSNR:
            log.info(
                "%s/%s: only images of one size share a run: padded to a %d-px bucket, the "
                "sample photo came out at %.1f dB against unpadded, below %.0f dB",
                self.spec.path.parent.name, self.spec.path.name, BUCKET, fidelity, BUCKET_MIN_PSNR,
            )  # fmt: skip
        return fidelity >= BUCKET_MIN_PSNR

    def _bucket(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """``shape`` with its height and width rounded up to the next bucket."""
        step = math.lcm(BUCKET, self.spec.size_multiple)
        h, w = (1, 2) if self.spec.layout is Layout.NHWC else (2, 3)
        rounded = list(shape)
        rounded[h] = -(-shape[h] // step) * step
        rounded[w] = -(-shape[w] // step) * step
        return tuple(rounded)

    def _pad(self, tensor: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """``tensor`` reflected at the bottom and right up to ``shape`` (it was already
        padded the same way to the model's size multiple; :func:`from_tensor` crops)."""
        if tensor.shape == shape:
            return tensor
        widths = [(0, want - have) for have, want in zip(tensor.shape, shape, strict=True)]
        return np.pad(tensor, widths, mode="reflect")

    @staticmethod
    def _split(output: np.ndarray, n: int) -> list[np.ndarray]:
        """A batch's output as ``n`` outputs of one (a lone image's output as it is)."""
        if n == 1:
            return [output]
        if output.ndim != 4 or output.shape[0] != n:
            raise ModelError(f"model output has shape {output.shape} for a batch of {n} images")
        return [output[k : k + 1] for k in range(n)]
