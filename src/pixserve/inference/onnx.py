"""``OnnxEngine``: an :class:`~pixserve.inference.engine.Engine` backed by ONNX Runtime
(CPU, or CUDA where ``onnxruntime-gpu`` sees a device)."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

import numpy as np

from pixserve.core.errors import BundleError, ModelError
from pixserve.inference.spec import Device

PROVIDERS = {Device.CPU: "CPUExecutionProvider", Device.CUDA: "CUDAExecutionProvider"}
PROVIDER = PROVIDERS[Device.CPU]


def cuda_available() -> bool:
    """Whether this ONNX Runtime build has the CUDA provider (``onnxruntime-gpu``).

    Without that package the answer is no, found without importing ONNX Runtime (about
    20 MB resident), which a server whose models all run on OpenVINO never needs.
    """
    try:
        importlib.metadata.distribution("onnxruntime-gpu")
    except importlib.metadata.PackageNotFoundError:
        return False
    import onnxruntime as ort

    return PROVIDERS[Device.CUDA] in ort.get_available_providers()


# ONNX element types an input may declare and the numpy type we feed it.
_INPUT_TYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
}


def session_options(threads: int | None) -> Any:
    """ONNX Runtime's options for every pixserve session: errors-only logging, no memory
    arena (with photo sizes that vary, it grows to the largest mix of shapes it has seen
    and never gives memory back), idle threads that sleep (a spinning one kept a core busy
    while the worker encoded and stored the result and the web answered), and ``threads``
    intra-op threads (None: the runtime's default, all cores)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # warnings about unused nodes are noise
    options.enable_cpu_mem_arena = False
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads is not None:
        if threads < 1:
            raise ValueError("threads must be ≥ 1")
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return options


class OnnxEngine:
    """Runs one ``.onnx`` file with ONNX Runtime's CPU (or CUDA) provider.

    Loading happens in the constructor, so a broken file fails where the bundle is known.
    A session may be shared by threads: ONNX Runtime's ``run`` is thread-safe. Its
    options: :func:`session_options`.
    """

    def __init__(
        self, path: Path | str, *, threads: int | None = None, device: Device = Device.CPU
    ) -> None:
        import onnxruntime as ort  # here: a server running only OpenVINO never loads it

        self.path = Path(path)
        self.device = device
        if not self.path.is_file():
            raise BundleError(f"{self.path}: model file not found")
        options = session_options(threads)  # a nonsense thread count is a ValueError
        try:
            self._session = ort.InferenceSession(
                str(self.path), sess_options=options, providers=[PROVIDERS[device]]
            )
        except Exception as exc:  # onnxruntime raises its own untyped exception classes
            raise BundleError(
                f"{self.path}: not a loadable ONNX model: {_first_line(exc)}"
            ) from exc
        inputs = self._session.get_inputs()
        if len(inputs) != 1:
            raise BundleError(
                f"{self.path}: the model must have exactly one input, has {len(inputs)}"
            )
        self.input_name: str = inputs[0].name
        self.input_shape: tuple[int | str | None, ...] = tuple(inputs[0].shape)
        dtype = _INPUT_TYPES.get(inputs[0].type)
        if dtype is None:
            raise BundleError(f"{self.path}: input type {inputs[0].type} is not a float tensor")
        self._dtype = dtype

    @property
    def name(self) -> str:
        """``onnxruntime/CPUExecutionProvider``."""
        return f"onnxruntime/{PROVIDERS[self.device]}"

    @property
    def accepts_batches(self) -> bool:
        """True unless the model's input fixes its batch size (a number, not a name)."""
        return not self.input_shape or not isinstance(self.input_shape[0], int)

    def run(self, batch: np.ndarray) -> np.ndarray:
        """Run the model on ``batch`` (N, ...) and return its first output as float32.

        Raises :class:`ModelError` when ONNX Runtime refuses the input or fails while running.
        """
        try:
            outputs = self._session.run(
                None, {self.input_name: batch.astype(self._dtype, copy=False)}
            )
        except Exception as exc:
            raise ModelError(
                f"model {self.path.name} failed on input {tuple(batch.shape)}: {_first_line(exc)}"
            ) from exc
        return np.asarray(outputs[0], dtype=np.float32)

    def __repr__(self) -> str:
        return f"OnnxEngine({str(self.path)!r})"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
