"""The engines pixserve can run a model on, and the choice of one for this machine.

============================  ===========================================================
``onnxruntime/cpu/fp32``      everywhere; the baseline every other engine is compared with
``onnxruntime/cpu/int8``      static QDQ quantisation, calibrated on photos (VNNI/AMX-INT8)
``onnxruntime/cuda/fp32``     where ``onnxruntime-gpu`` sees a CUDA device
``openvino/cpu/fp32|bf16``    bf16 on CPUs with AMX: ~10× ONNX Runtime fp32 on generators;
                              fp32 elsewhere: 1.1-1.8× ONNX Runtime at serving sizes
``torch/cuda/fp16|bf16|fp32`` where PyTorch sees a CUDA GPU and ``onnxruntime-gpu`` is absent
``torch/cpu/fp32|bf16``       only when asked (tests, comparisons)
============================  ===========================================================

:func:`choose` decides from the hardware (:mod:`pixserve.core.hardware`): a GPU, then AMX
(OpenVINO bf16), else OpenVINO fp32 (ONNX Runtime fp32 without OpenVINO). Where the flags
do not decide (AVX512-BF16 without AMX: native bf16 dot products, but no matrix units), it
says so and the caller times OpenVINO fp32 and bf16 on the model (:func:`faster`). Variants
below fp32 are checked against fp32 before use (:class:`~pixserve.inference.cache.EngineCache`).
"""

from __future__ import annotations

import functools
import importlib.util
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pixserve.core.hardware import Cpu
from pixserve.inference import openvino as ov_engine
from pixserve.inference import torch_onnx as torch_engine
from pixserve.inference.engine import Engine
from pixserve.inference.onnx import OnnxEngine, cuda_available
from pixserve.inference.spec import Device, EngineSpec, Precision, Runtime


@dataclass(frozen=True)
class Choice:
    """An engine for this machine and why; ``undecided`` lists specs worth timing."""

    spec: EngineSpec
    reason: str
    undecided: tuple[EngineSpec, ...] = ()


@functools.cache
def openvino_installed() -> bool:
    return ov_engine.available()


def supported(spec: EngineSpec, cpu: Cpu) -> str | None:
    """Why ``spec`` cannot run here, or None when it can."""
    if spec.runtime is Runtime.TORCH:
        if importlib.util.find_spec("torch") is None:
            return "PyTorch is not installed"
        if spec.device is Device.CUDA:
            if spec.precision is Precision.INT8:
                return "the torch engine runs fp32, bf16 or fp16, not int8"
            return None if torch_engine.cuda_available() else "PyTorch sees no CUDA device"
        if spec.precision not in (Precision.FP32, Precision.BF16):
            return f"torch on the CPU runs fp32 or bf16, not {spec.precision}"
        return None
    if spec.runtime is Runtime.OPENVINO:
        if not openvino_installed():
            return "OpenVINO is not installed (pip install 'pixserve[fast]')"
        if spec.device is not Device.CPU:
            return "pixserve runs OpenVINO on the CPU only"
        if spec.precision not in (Precision.FP32, Precision.BF16):
            return f"OpenVINO on the CPU runs fp32 or bf16, not {spec.precision}"
        if spec.precision is Precision.BF16 and not cpu.bf16:
            return "this CPU has no bf16 instructions (amx_bf16, avx512_bf16): bf16 is emulated"
        return None
    if spec.device is Device.CUDA:
        if not cuda_available():
            return "ONNX Runtime sees no CUDA device (onnxruntime-gpu and a GPU are needed)"
        return None if spec.precision is Precision.FP32 else "ONNX Runtime CUDA runs fp32 here"
    if spec.precision not in (Precision.FP32, Precision.INT8):
        return f"ONNX Runtime on the CPU runs fp32 or int8, not {spec.precision}"
    return None


def choose(
    cpu: Cpu,
    *,
    cuda: bool | None = None,
    openvino: bool | None = None,
    torch_cuda: bool | None = None,
) -> Choice:
    """The engine this machine should run models on, from what its hardware offers."""
    cuda = cuda_available() if cuda is None else cuda
    openvino = openvino_installed() if openvino is None else openvino
    if cuda:
        return Choice(EngineSpec(device=Device.CUDA), "a CUDA device")
    if torch_engine.cuda_available() if torch_cuda is None else torch_cuda:
        spec = EngineSpec(Runtime.TORCH, Device.CUDA, Precision.FP16)
        return Choice(spec, "a CUDA device, seen by PyTorch (onnxruntime-gpu is not installed)")
    fp32 = EngineSpec(Runtime.OPENVINO)
    bf16 = fp32.with_precision(Precision.BF16)
    if cpu.amx and openvino:
        return Choice(bf16, "the CPU has AMX (bf16 matrix units): OpenVINO bf16")
    # OpenVINO fp32 over ONNX Runtime fp32: measured on an AVX2-only EPYC, 1.1-1.8x on
    # generators and upscalers at the sizes jobs run at, and a third less memory on a 1024²
    # photo; on AVX512-BF16 machines 1.2-1.3x at 512². Only tiny models (tens of ms) and
    # thumbnail-sized inputs run faster on ONNX Runtime, so timing the two on small probes
    # would pick the wrong one.
    if cpu.bf16 and openvino:
        # Native bf16 dot products but no matrix units: 2.3x fp32 on an AMD Zen 4, 0.7x on
        # an Intel Xeon whose AMX the hypervisor hides. Both OpenVINO, so probes decide.
        reason = "the CPU has AVX512-BF16 but no AMX: measured on the model"
        return Choice(fp32, reason, undecided=(fp32, bf16))
    if cpu.amx or cpu.bf16:
        return Choice(EngineSpec(), "bf16 hardware, but OpenVINO is not installed: fp32")
    if openvino:
        reason = "no bf16 hardware: OpenVINO fp32, faster than ONNX Runtime at serving sizes"
        return Choice(fp32, reason)
    return Choice(EngineSpec(), "no bf16 hardware and no OpenVINO: ONNX Runtime fp32")


def build(
    path: Path,
    spec: EngineSpec,
    *,
    cache_dir: Path | None = None,
    calibration: Sequence[np.ndarray] = (),
) -> Engine:
    """An engine running ``path`` as ``spec``. int8 quantises the model first (cached in
    ``cache_dir``), calibrated on ``calibration`` batches in the model's convention."""
    if spec.runtime is Runtime.OPENVINO:
        blobs = cache_dir / "openvino" if cache_dir is not None else None
        return ov_engine.OpenVinoEngine(path, spec, cache_dir=blobs)
    if spec.runtime is Runtime.TORCH:
        from pixserve.inference.torch_onnx import TorchEngine  # imports torch

        return TorchEngine(path, spec)
    if spec.precision is Precision.INT8:
        from pixserve.inference.quantize import int8_model

        path = int8_model(path, calibration, cache_dir=cache_dir)
    return OnnxEngine(path, threads=spec.threads, device=spec.device)


def faster(engines: Sequence[Engine], batch: np.ndarray, *, runs: int = 2) -> int:
    """The index of the engine that runs ``batch`` fastest (best of ``runs`` after a warm-up)."""
    best = [min(time_runs(engine, batch, runs=runs, warmup=1)[1]) for engine in engines]
    return int(np.argmin(best))


def time_runs(
    engine: Engine, batch: np.ndarray, *, runs: int, warmup: int
) -> tuple[np.ndarray, tuple[float, ...]]:
    """The output of the last run and the seconds of each of ``runs`` runs after ``warmup``."""
    if runs < 1:
        raise ValueError("runs must be ≥ 1")
    output = batch
    for _ in range(warmup):
        output = engine.run(batch)
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        output = engine.run(batch)
        seconds.append(time.perf_counter() - start)
    return output, tuple(seconds)
