"""``EngineSpec``: which runtime runs a model, on which device, in which number format.

The right engine depends on the machine (see :mod:`pixserve.core.hardware`): on a CPU with
AMX, OpenVINO in bf16 runs a CycleGAN generator ~10× faster than ONNX Runtime in fp32; on an
AVX2-only CPU bf16 is emulated, and OpenVINO fp32 beats ONNX Runtime fp32 at serving sizes.
:func:`pixserve.inference.engines.choose` picks one per machine; settings and styles may
name one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class Runtime(StrEnum):
    ONNXRUNTIME = "onnxruntime"
    OPENVINO = "openvino"
    TORCH = "torch"


class Device(StrEnum):
    CPU = "cpu"
    CUDA = "cuda"


class Precision(StrEnum):
    FP32 = "fp32"
    BF16 = "bf16"
    FP16 = "fp16"
    INT8 = "int8"


@dataclass(frozen=True)
class EngineSpec:
    """One way to run a model; printed as ``openvino/cpu/bf16``."""

    runtime: Runtime = Runtime.ONNXRUNTIME
    device: Device = Device.CPU
    precision: Precision = Precision.FP32
    #: Intra-op threads; None: the runtime's default (all cores).
    threads: int | None = None

    def __str__(self) -> str:
        return f"{self.runtime}/{self.device}/{self.precision}"

    def with_precision(self, precision: Precision) -> EngineSpec:
        return replace(self, precision=precision)

    @classmethod
    def parse(cls, text: str, *, threads: int | None = None) -> EngineSpec:
        """``"openvino/cpu/bf16"``, ``"onnxruntime"`` (cpu, fp32) … as written by ``str``."""
        parts = text.strip().lower().split("/")
        if not 1 <= len(parts) <= 3:
            raise ValueError(f"engine {text!r}: expected runtime[/device[/precision]]")
        try:
            runtime = Runtime(parts[0])
            device = Device(parts[1]) if len(parts) > 1 else Device.CPU
            precision = Precision(parts[2]) if len(parts) > 2 else Precision.FP32
        except ValueError as exc:
            raise ValueError(f"engine {text!r}: {exc}") from None
        return cls(runtime, device, precision, threads)


#: The reference every other engine is compared with.
BASELINE = EngineSpec()

#: Images (or tiles) per model run on a GPU, unless ``PIXSERVE_BATCH_SIZE`` says otherwise.
GPU_BATCH = 8


def default_batch(spec: EngineSpec) -> int:
    """Images per model run on ``spec``: :data:`GPU_BATCH` on a GPU, 1 on a CPU, where
    batches did not raise throughput (docs/performance.md)."""
    return GPU_BATCH if spec.device is Device.CUDA else 1
