"""Tiny ONNX models and style bundles built by the tests themselves (no downloads)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv_chain_model(
    layers: int = 24, width: int = 16, seed: int = 0, batch: int | str = 1
) -> onnx.ModelProto:
    """A fully convolutional NCHW model, deliberately heavy: ``layers`` 3×3 convolutions.
    Its batch axis is ``batch``: fixed at one, or named (any size).

    Used where a test needs a job that is still running a few seconds after it starts.
    """
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    channels = [3] + [width] * (layers - 1) + [3]
    previous = "input"
    for i in range(layers):
        c_in, c_out = channels[i], channels[i + 1]
        weight = rng.normal(0, 1 / np.sqrt(9 * c_in), (c_out, c_in, 3, 3)).astype(np.float32)
        inits.append(numpy_helper.from_array(weight, f"w{i}"))
        out = "output" if i == layers - 1 else f"h{i}"
        conv_out = f"c{i}" if i < layers - 1 else out
        nodes.append(helper.make_node("Conv", [previous, f"w{i}"], [conv_out], pads=[1, 1, 1, 1]))
        if i < layers - 1:
            nodes.append(helper.make_node("Tanh", [conv_out], [out]))
        previous = out
    graph = helper.make_graph(
        nodes,
        "conv_chain",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, "h", "w"])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [batch, 3, "h", "w"])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def write_onnx_bundle(
    root: Path, name: str, model: onnx.ModelProto, *, max_side: int = 1024, fast: bool = False
) -> Path:
    """Write a ``kind = "onnx"`` style bundle for ``model`` under ``root/name``."""
    bundle = root / name
    bundle.mkdir(parents=True, exist_ok=True)
    onnx.save(model, bundle / "model.onnx")
    (bundle / "style.toml").write_text(
        f'''name = "{name}"
title = "{name.title()}"
description = "A test model."
kind = "onnx"
fast = {str(fast).lower()}

[model]
file = "model.onnx"
layout = "NCHW"
range = "-1..1"
channels = "RGB"
size_multiple = 1
scale = 1

[pipeline]
max_side = {max_side}
'''
    )
    return bundle
