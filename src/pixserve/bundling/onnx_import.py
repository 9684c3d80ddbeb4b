"""Importing an ONNX file as a style, its tensor convention declared by the caller.

Torch-free. A model whose height and width are fixed in the file (like the ONNX model
zoo's fast-neural-style ``mosaic-9.onnx``, declared 1×3×224×224) has them made dynamic,
and the import proves it by running the model at another size.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from pixserve.bundling.probe import probe_rgb, round_up
from pixserve.bundling.writer import onnx_manifest, write_bundle
from pixserve.core.errors import CheckpointError, ExportMismatch, ModelError
from pixserve.core.tensor_io import Layout, TensorIO
from pixserve.inference import OnnxEngine
from pixserve.pipeline import Style
from pixserve.pipeline.tensor import from_tensor, to_tensor

#: The ONNX model zoo's fast neural style files: input ``input1``, RGB 0..255.
ZOO_STYLE_INPUT = "input1"


@dataclass
class OnnxImportResult:
    """What ``pixserve import onnx`` reports."""

    style: Style
    input_name: str
    made_dynamic: bool
    probe_shape: tuple[int, int]
    #: Why the bundle has no thumbnail, if it has none.
    thumbnail_skipped: str | None = None


def input_name(path: Path) -> str:
    """The name of the model's first graph input (that is not an initializer)."""
    model = _load(path)
    return _graph_inputs(model)[0].name


def import_onnx(
    path: Path,
    root: Path,
    io: TensorIO,
    *,
    name: str,
    title: str | None = None,
    description: str | None = None,
    tile: int | None = None,
    tile_overlap: int | None = None,
    max_side: int | None = None,
    force: bool = False,
    sample: np.ndarray | None = None,
) -> OnnxImportResult:
    """Check ``path`` runs with the declared convention ``io`` at a probe size, write the
    bundle ``root/name`` with a thumbnail rendered from ``sample`` (see
    :func:`~pixserve.bundling.writer.write_bundle`). Keys left None take the format's
    defaults (no tiles, ``max_side`` 1024)."""
    manifest = onnx_manifest(
        io,
        name=name,
        title=title,
        description=description or f"Imported ONNX model ({path.name}).",
        max_side=max_side,
        tile=tile,
        tile_overlap=tile_overlap,
    )
    model = _load(path)
    inputs = _graph_inputs(model)
    if len(inputs) != 1:
        names = ", ".join(i.name for i in inputs)
        raise CheckpointError(f"{path}: the model must have one input, has {len(inputs)} ({names})")
    made_dynamic = _make_dynamic(model, io.layout)
    m = io.size_multiple
    with tempfile.TemporaryDirectory(prefix="pixserve-import-") as tmp:
        staged = Path(tmp) / "model.onnx"
        onnx.save(model, str(staged))
        h, w = round_up(56, m), round_up(72, m) + m
        probe = probe_rgb(h, w)
        try:
            output = OnnxEngine(staged).run(to_tensor(probe, io))
            from_tensor(output, io, probe.shape)
        except ModelError as exc:
            raise ExportMismatch(
                f"{path.name} does not run on a {w}×{h} probe with the declared I/O "
                f"({io.layout}, {io.range}, ×{io.scale}, multiple {m}): {exc.message}"
            ) from exc
        if not np.all(np.isfinite(output)):
            raise ExportMismatch(f"{path.name} gives non-finite values on the probe image")
        config = {
            "family": "onnx",
            "source": {"file": path.name, "input": inputs[0].name},
            "made_dynamic": made_dynamic,
        }
        written = write_bundle(
            root, manifest, model=staged, config=config, sample=sample, force=force
        )
    return OnnxImportResult(
        written.style, inputs[0].name, made_dynamic, (h, w), written.thumbnail_skipped
    )


def _load(path: Path) -> onnx.ModelProto:
    if not path.is_file():
        raise CheckpointError(f"{path}: file not found")
    try:
        return onnx.load(str(path))
    except Exception as exc:  # protobuf raises its own DecodeError and friends
        raise CheckpointError(f"{path}: not an ONNX model ({type(exc).__name__})") from exc


def _graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    initializers = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if not inputs:
        raise CheckpointError("the ONNX graph has no input")
    return inputs


def _make_dynamic(model: onnx.ModelProto, layout: Layout) -> bool:
    """Replace fixed batch/height/width of the input and outputs by named dims."""
    axes = (
        {0: "batch", 2: "height", 3: "width"}
        if layout is Layout.NCHW
        else {0: "batch", 1: "height", 2: "width"}
    )
    changed = False
    for value in [_graph_inputs(model)[0], *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        if len(dims) != 4:
            continue
        for axis, label in axes.items():
            if dims[axis].HasField("dim_value"):
                dims[axis].dim_param = (
                    label if value.name == _graph_inputs(model)[0].name else (f"out_{label}")
                )
                changed = True
    if changed:
        del model.graph.value_info[:]  # stale fixed shapes of intermediate tensors
    return changed
