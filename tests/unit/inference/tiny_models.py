"""Tiny ONNX models built with ``onnx.helper``, for the inference and pipeline tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def _save(nodes: list[onnx.NodeProto], path: Path, *, layout: str, inits=(), out_c="C") -> Path:
    dims_in = ["N", "C", "H", "W"] if layout == "NCHW" else ["N", "H", "W", "C"]
    dims_out = ["N", out_c, "H2", "W2"] if layout == "NCHW" else ["N", "H2", "W2", out_c]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims_in)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, dims_out)],
        initializer=list(inits),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def negate(path: Path) -> Path:
    """NCHW, any range: ``y = -x`` (in -1..1 that is the photographic negative)."""
    return _save([helper.make_node("Neg", ["x"], ["y"])], path, layout="NCHW")


def channel_gains(path: Path, gains: tuple[float, float, float], *, layout: str) -> Path:
    """``y = x * gains`` per channel, in the model's own channel order and layout."""
    shape = (1, 3, 1, 1) if layout == "NCHW" else (1, 1, 1, 3)
    g = numpy_helper.from_array(np.array(gains, np.float32).reshape(shape), "g")
    return _save([helper.make_node("Mul", ["x", "g"], ["y"])], path, layout=layout, inits=[g])


def upscale2(path: Path) -> Path:
    """NCHW nearest-neighbour 2× upscale via ``Resize``."""
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
    node = helper.make_node(
        "Resize",
        ["x", "", "scales"],
        ["y"],
        mode="nearest",
        coordinate_transformation_mode="asymmetric",
        nearest_mode="floor",
    )
    return _save([node], path, layout="NCHW", inits=[scales])


def needs_multiple_of_8(path: Path) -> Path:
    """NCHW identity that only runs when H and W are multiples of 8.

    A stride-8 ``Conv`` that packs each 8×8 block into channels (a fixed one-hot kernel),
    then ``DepthToSpace`` unpacks them again.
    """
    kernel = np.zeros((3 * 64, 3, 8, 8), np.float32)
    for c in range(3):
        for i in range(8):
            for j in range(8):
                # DepthToSpace (DCR) reads channel (i * 8 + j) * 3 + c for offset (i, j)
                kernel[(i * 8 + j) * 3 + c, c, i, j] = 1.0
    w = numpy_helper.from_array(kernel, "w")
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["packed"], strides=[8, 8], kernel_shape=[8, 8]),
        helper.make_node("DepthToSpace", ["packed"], ["y"], blocksize=8, mode="DCR"),
    ]
    return _save(nodes, path, layout="NCHW", inits=[w])


def single_channel(path: Path) -> Path:
    """NCHW: the mean of the three channels as a one-channel image."""
    node = helper.make_node("ReduceMean", ["x"], ["y"], axes=[1], keepdims=1)  # opset 17
    return _save([node], path, layout="NCHW", out_c="1")
