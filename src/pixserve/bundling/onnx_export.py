"""A loaded PyTorch model to ONNX, and proof that ONNX Runtime gives the same numbers.

Needs torch (the ``train`` extra). The verification feeds both runtimes the tensor the
serving pipeline would build from a probe image (same range, padding and layout), so a
bundle that imports is a bundle that serves the same pixels.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pixserve.bundling.probe import probe_rgb, round_up
from pixserve.core.errors import ExportMismatch, ModelError
from pixserve.inference import OnnxEngine
from pixserve.models import LoadedModel
from pixserve.pipeline.tensor import to_tensor

OPSET = 17
INPUT_NAME = "input"
OUTPUT_NAME = "output"
#: Default tolerance: max |ONNX − PyTorch| as a fraction of the model's value range.
TOLERANCE = 1e-4


@dataclass(frozen=True)
class Verification:
    """How closely ONNX Runtime reproduced PyTorch on the probe image."""

    max_abs_error: float
    tolerance: float  # absolute, in the model's own units
    probe_shape: tuple[int, int]


def export_onnx(loaded: LoadedModel, path: Path) -> None:
    """Write ``loaded.module`` as ONNX (opset 17) with dynamic batch, height and width
    (height and width fixed for a model with an ``input_size``)."""
    m = loaded.io.size_multiple
    # 64 px or more: pix2pixHD's bottleneck (a multiple of 32) then has 2×2 values, where
    # its instance norm needs more than one to trace.
    side = round_up(64, m)
    dummy = torch.from_numpy(to_tensor(probe_rgb(side, side), loaded.io))
    axes = {0: "batch"} if loaded.io.input_size else {0: "batch", 2: "height", 3: "width"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about shape arithmetic
        torch.onnx.export(
            loaded.module,
            (dummy,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: axes, OUTPUT_NAME: axes},
            opset_version=OPSET,
            dynamo=False,
        )


def verify(loaded: LoadedModel, onnx_path: Path, *, tolerance: float = TOLERANCE) -> Verification:
    """Run the probe through PyTorch and ONNX Runtime; raise :class:`ExportMismatch` if
    they differ by more than ``tolerance`` × the value range.

    The probe's size differs from the export's dummy input, so this also proves the ONNX
    model accepts other sizes.
    """
    m = loaded.io.size_multiple
    h, w = round_up(56, m), round_up(72, m) + m  # ≠ the 32×32 (or m×m) export size
    batch = to_tensor(probe_rgb(h, w), loaded.io)
    with torch.no_grad():
        expected = loaded.module(torch.from_numpy(batch)).numpy()
    try:
        got = OnnxEngine(onnx_path).run(batch)
    except ModelError as exc:
        raise ExportMismatch(f"the exported model does not run: {exc.message}") from exc
    if got.shape != expected.shape:
        raise ExportMismatch(f"ONNX output {got.shape} ≠ PyTorch output {expected.shape}")
    error = float(np.max(np.abs(got - expected)))
    limit = tolerance * loaded.io.range.span
    if not error <= limit:
        raise ExportMismatch(
            f"ONNX Runtime differs from PyTorch by {error:.3g} on the probe image "
            f"(tolerance {limit:.3g} in the {loaded.io.range} range)"
        )
    return Verification(max_abs_error=error, tolerance=limit, probe_shape=(h, w))
