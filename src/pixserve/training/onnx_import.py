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

from pixserve.core.errors import CheckpointError, ExportMismatch, ModelError
from pixserve.inference import OnnxEngine
from pixserve.pipeline.style import Channels, Layout, ModelSpec, Style, ValueRange
from pixserve.pipeline.tensor import from_tensor, to_tensor
from pixserve.training.bundle_writer import BundleSpec, check_name, write_bundle
from pixserve.training.probe import probe_rgb, round_up

#: The ONNX model zoo's fast neural style files: input ``input1``, RGB 0..255.
ZOO_STYLE_INPUT = "input1"


@dataclass(frozen=True)
class OnnxIO:
    """The declared convention (the ``[model]`` keys of the bundle)."""

    range: str
    layout: str = "NCHW"
    channels: str = "RGB"
    size_multiple: int = 1
    scale: int = 1


@dataclass
class OnnxImportResult:
    """What ``pixserve import onnx`` reports."""

    style: Style
    input_name: str
    made_dynamic: bool
    probe_shape: tuple[int, int]


def input_name(path: Path) -> str:
    """The name of the model's first graph input (that is not an initializer)."""
    model = _load(path)
    return _graph_inputs(model)[0].name


def import_onnx(
    path: Path,
    root: Path,
    io: OnnxIO,
    *,
    name: str,
    title: str | None = None,
    description: str | None = None,
    tile: int = 0,
    tile_overlap: int = 0,
    max_side: int = 1024,
    force: bool = False,
) -> OnnxImportResult:
    """Check ``path`` runs with the declared convention at a probe size, write the bundle."""
    check_name(name)
    model = _load(path)
    inputs = _graph_inputs(model)
    if len(inputs) != 1:
        names = ", ".join(i.name for i in inputs)
        raise CheckpointError(f"{path}: the model must have one input, has {len(inputs)} ({names})")
    made_dynamic = _make_dynamic(model, Layout(io.layout))
    spec_args = {
        "range": ValueRange(io.range),
        "layout": Layout(io.layout),
        "channels": Channels(io.channels),
        "size_multiple": io.size_multiple,
        "scale": io.scale,
    }
    with tempfile.TemporaryDirectory(prefix="pixserve-import-") as tmp:
        staged = Path(tmp) / "model.onnx"
        onnx.save(model, str(staged))
        spec = ModelSpec(path=staged, **spec_args)  # type: ignore[arg-type]
        m = io.size_multiple
        h, w = round_up(56, m), round_up(72, m) + m
        probe = probe_rgb(h, w)
        try:
            output = OnnxEngine(staged).run(to_tensor(probe, spec))
            from_tensor(output, spec, probe.shape)
        except ModelError as exc:
            raise ExportMismatch(
                f"{path.name} does not run on a {w}×{h} probe with the declared I/O "
                f"({io.layout}, {io.range}, ×{io.scale}, multiple {m}): {exc.message}"
            ) from exc
        if not np.all(np.isfinite(output)):
            raise ExportMismatch(f"{path.name} gives non-finite values on the probe image")
        bundle = BundleSpec(
            name=name,
            title=title or name.replace("-", " ").capitalize(),
            description=description or f"Imported ONNX model ({path.name}).",
            range=io.range,
            layout=io.layout,
            channels=io.channels,
            size_multiple=m,
            scale=io.scale,
            tile=round_up(tile, m) if tile else 0,
            tile_overlap=tile_overlap,
            max_side=max_side,
            config={
                "family": "onnx",
                "source": {"file": path.name, "input": inputs[0].name},
                "made_dynamic": made_dynamic,
            },
        )
        style = write_bundle(root, bundle, staged, force=force)
    return OnnxImportResult(style, inputs[0].name, made_dynamic, (h, w))


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
