"""``OpenVinoEngine``: an ONNX model compiled by OpenVINO for the CPU, in fp32 or bf16.

On CPUs with AMX, OpenVINO's bf16 kernels run convolutional generators about ten times
faster than ONNX Runtime in fp32 (see ``docs/performance.md``). The model is compiled once
per input shape it meets (the pipeline's shapes repeat: photos are limited to ``max_side``
and padded to the model's multiple), the last :data:`SHAPES` kept; compiled blobs go to
``cache_dir`` so a restarted worker loads them instead of compiling again.

Needs the ``openvino`` package (the ``fast`` extra); :func:`available` says whether it is
installed.
"""

from __future__ import annotations

import importlib.util
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from pixserve.core.errors import BundleError, ModelError
from pixserve.inference.spec import Device, EngineSpec, Precision, Runtime

#: Compiled shapes kept per model (each holds its own buffers).
SHAPES = 4
_HINTS = {Precision.FP32: "f32", Precision.BF16: "bf16"}


def available() -> bool:
    """Whether the ``openvino`` package is installed."""
    return importlib.util.find_spec("openvino") is not None


class OpenVinoEngine:
    """Runs one ``.onnx`` file with OpenVINO on the CPU.

    Reading the model happens in the constructor (a broken file fails where the bundle is
    known); compiling happens per input shape, on first use of that shape. Thread-safe:
    one lock per compiled shape, as an infer request serves one call at a time.
    """

    def __init__(self, path: Path | str, spec: EngineSpec, *, cache_dir: Path | None = None):
        import openvino as ov

        if spec.runtime is not Runtime.OPENVINO or spec.device is not Device.CPU:
            raise ValueError(f"OpenVinoEngine runs openvino/cpu, not {spec}")
        if spec.precision not in _HINTS:
            raise ValueError(f"OpenVINO on the CPU runs fp32 or bf16, not {spec.precision}")
        self.path, self.spec = Path(path), spec
        if not self.path.is_file():
            raise BundleError(f"{self.path}: model file not found")
        self._core = ov.Core()
        try:
            self._model = self._core.read_model(str(self.path))
        except Exception as exc:  # OpenVINO raises RuntimeError with a long text
            raise BundleError(f"{self.path}: OpenVINO cannot read it: {_first_line(exc)}") from exc
        if len(self._model.inputs) != 1:
            raise BundleError(f"{self.path}: the model must have exactly one input")
        self._config: dict[str, Any] = {
            "INFERENCE_PRECISION_HINT": _HINTS[spec.precision],
            "PERFORMANCE_HINT": "LATENCY",
        }
        if spec.threads:
            self._config["INFERENCE_NUM_THREADS"] = spec.threads
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            self._config["CACHE_DIR"] = str(cache_dir)
        self._compiled: OrderedDict[tuple[int, ...], tuple[Any, threading.Lock]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return str(self.spec)

    def compile(self, shape: tuple[int, ...]) -> None:
        """Compile for ``shape`` now (warm-up), so the first job does not wait for it."""
        self._request(shape)

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Run the model on ``batch`` and return its first output as float32."""
        request, lock = self._request(tuple(batch.shape))
        try:
            with lock:
                result = request.infer({0: np.ascontiguousarray(batch, dtype=np.float32)})
                return np.array(result[0], dtype=np.float32)  # a copy: the buffer is reused
        except Exception as exc:
            raise ModelError(
                f"model {self.path.name} failed on input {tuple(batch.shape)}: {_first_line(exc)}"
            ) from exc

    def _request(self, shape: tuple[int, ...]) -> tuple[Any, threading.Lock]:
        with self._lock:
            found = self._compiled.get(shape)
            if found is not None:
                self._compiled.move_to_end(shape)
                return found
        model = self._model.clone()
        try:
            model.reshape({0: list(shape)})
            compiled = self._core.compile_model(model, "CPU", self._config)
        except Exception as exc:
            raise ModelError(
                f"model {self.path.name}: OpenVINO cannot compile it for {shape}: "
                f"{_first_line(exc)}"
            ) from exc
        entry = (compiled.create_infer_request(), threading.Lock())
        with self._lock:
            self._compiled[shape] = entry
            while len(self._compiled) > SHAPES:
                self._compiled.popitem(last=False)
        return entry

    def __repr__(self) -> str:
        return f"OpenVinoEngine({str(self.path)!r}, {self.spec})"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
