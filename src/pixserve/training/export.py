"""Export a loaded checkpoint to ONNX, verify it against PyTorch, and write a style bundle.

Needs torch (the ``train`` extra). The verification feeds both runtimes the tensor the
serving pipeline would build from a probe image (same range, padding and layout), so a
bundle that imports is a bundle that serves the same pixels.
"""

from __future__ import annotations

import hashlib
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pixserve.core.errors import ExportMismatch, ModelError
from pixserve.inference import OnnxEngine
from pixserve.models import LoadedModel, guess_family, load_family, read_state_dict
from pixserve.pipeline.style import ModelSpec, Style, ValueRange
from pixserve.pipeline.tensor import to_tensor
from pixserve.training.bundle_writer import BundleSpec, check_name, write_bundle
from pixserve.training.probe import probe_rgb, round_up

OPSET = 17
INPUT_NAME = "input"
OUTPUT_NAME = "output"
#: Default tolerance: max |ONNX − PyTorch| as a fraction of the model's value range.
TOLERANCE = 1e-4
#: Tiles used for local (receptive-field-limited) models, e.g. Real-ESRGAN upscalers.
LOCAL_TILE, LOCAL_OVERLAP = 256, 32

_SPAN = {"0..1": 1.0, "-1..1": 2.0, "0..255": 255.0}


@dataclass(frozen=True)
class Verification:
    """How closely ONNX Runtime reproduced PyTorch on the probe image."""

    max_abs_error: float
    tolerance: float  # absolute, in the model's own units
    probe_shape: tuple[int, int]


def export_onnx(loaded: LoadedModel, path: Path) -> None:
    """Write ``loaded.module`` as ONNX (opset 17) with dynamic batch, height and width."""
    m = loaded.io.size_multiple
    side = round_up(32, m)
    dummy = torch.from_numpy(to_tensor(probe_rgb(side, side), _spec(loaded, path)))
    axes = {0: "batch", 2: "height", 3: "width"}
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
    batch = to_tensor(probe_rgb(h, w), _spec(loaded, onnx_path))
    with torch.no_grad():
        expected = loaded.module(torch.from_numpy(batch)).numpy()
    try:
        got = OnnxEngine(onnx_path).run(batch)
    except ModelError as exc:
        raise ExportMismatch(f"the exported model does not run: {exc.message}") from exc
    if got.shape != expected.shape:
        raise ExportMismatch(f"ONNX output {got.shape} ≠ PyTorch output {expected.shape}")
    error = float(np.max(np.abs(got - expected)))
    limit = tolerance * _SPAN[loaded.io.range]
    if not error <= limit:
        raise ExportMismatch(
            f"ONNX Runtime differs from PyTorch by {error:.3g} on the probe image "
            f"(tolerance {limit:.3g} in the {loaded.io.range} range)"
        )
    return Verification(max_abs_error=error, tolerance=limit, probe_shape=(h, w))


def _spec(loaded: LoadedModel, path: Path) -> ModelSpec:
    return ModelSpec(
        path=path,
        range=ValueRange(loaded.io.range),
        size_multiple=loaded.io.size_multiple,
        scale=loaded.io.scale,
    )


@dataclass
class ImportResult:
    """What ``pixserve import`` reports."""

    style: Style
    loaded: LoadedModel
    verification: Verification


def import_checkpoint(
    arch: str,
    checkpoint: Path,
    root: Path,
    *,
    name: str,
    title: str | None = None,
    description: str | None = None,
    options: dict[str, Any] | None = None,
    tile: int | None = None,
    tile_overlap: int | None = None,
    max_side: int = 1024,
    force: bool = False,
    tolerance: float = TOLERANCE,
) -> ImportResult:
    """Load ``checkpoint`` as ``arch`` (or ``auto``), export, verify, write ``root/name``.

    Local models (upscalers) get tiles of :data:`LOCAL_TILE` px unless ``tile`` says
    otherwise (0 = never tile).
    """
    check_name(name)
    state = read_state_dict(checkpoint)
    family = guess_family(state) if arch == "auto" else arch
    loaded = load_family(family, state, **(options or {}))
    if tile is None:
        tile = LOCAL_TILE if loaded.io.local else 0
    overlap = tile_overlap if tile_overlap is not None else (LOCAL_OVERLAP if tile else 0)
    tile = round_up(tile, loaded.io.size_multiple) if tile else 0
    with tempfile.TemporaryDirectory(prefix="pixserve-import-") as tmp:
        onnx_path = Path(tmp) / "model.onnx"
        export_onnx(loaded, onnx_path)
        check = verify(loaded, onnx_path, tolerance=tolerance)
        config = loaded.config_dict() | {
            "source": {"file": checkpoint.name, "sha256": _sha256(checkpoint)},
            "verification": {
                "max_abs_error": check.max_abs_error,
                "tolerance": check.tolerance,
                "probe": list(check.probe_shape),
                "torch": torch.__version__,
            },
        }
        spec = BundleSpec(
            name=name,
            title=title or name.replace("-", " ").capitalize(),
            description=description or f"Imported {loaded.family} model ({checkpoint.name}).",
            range=loaded.io.range,
            size_multiple=loaded.io.size_multiple,
            scale=loaded.io.scale,
            tile=tile,
            tile_overlap=overlap,
            max_side=max_side,
            config=config,
        )
        style = write_bundle(root, spec, onnx_path, force=force)
    return ImportResult(style=style, loaded=loaded, verification=check)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
