"""int8 versions of ONNX models: ONNX Runtime's static QDQ quantisation, calibrated on photos.

Weights per channel (int8), activations per tensor (uint8) with ranges measured on the
calibration batches. Quantisation can cost a lot of fidelity on generators (measured: a
CycleGAN ResNet-9 at ~30 dB PSNR against fp32), so the engine cache compares every int8
model with fp32 and refuses one below the style's floor. Results are cached in
``<cache_dir>/int8/`` under a hash of the model.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from pixserve.core.errors import ModelError


def int8_model(
    path: Path, calibration: Sequence[np.ndarray], *, cache_dir: Path | None = None
) -> Path:
    """The int8 QDQ model of ``path``: found in ``cache_dir`` (keyed by the model's hash;
    the calibration photos are the pipeline's fixed probes), or made now from
    ``calibration``."""
    key = hashlib.sha256(path.read_bytes()).hexdigest()[:24]
    folder = cache_dir / "int8" if cache_dir is not None else Path(tempfile.mkdtemp())
    target = folder / f"{path.stem}-{key}.onnx"
    if target.is_file():
        return target
    if not calibration:
        raise ModelError(f"model {path.name}: int8 needs calibration images")
    folder.mkdir(parents=True, exist_ok=True)
    _quantise(path, target, calibration)
    return target


def _quantise(source: Path, target: Path, calibration: Sequence[np.ndarray]) -> None:
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    name = onnx.load(str(source), load_external_data=False).graph.input[0].name

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._batches: Iterator[np.ndarray] = iter(calibration)

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self._batches, None)
            return None if batch is None else {name: batch.astype(np.float32, copy=False)}

    with tempfile.TemporaryDirectory(prefix="pixserve-int8-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        staged = Path(tmp) / "int8.onnx"
        try:
            quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
            quantize_static(
                str(prepared),
                str(staged),
                Reader(),
                quant_format=QuantFormat.QDQ,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                per_channel=True,
            )
        except Exception as exc:  # the quantiser raises many kinds for unusual graphs
            text = str(exc).strip().splitlines()
            raise ModelError(
                f"model {source.name}: int8 quantisation failed: "
                f"{text[0] if text else type(exc).__name__}"
            ) from exc
        part = target.with_suffix(".part")
        shutil.copyfile(staged, part)
        os.replace(part, target)  # whole, or not at all
