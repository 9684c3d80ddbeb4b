"""The measuring pieces of ``pixserve bench model``: FLOPs, PSNR, timed runs."""

from __future__ import annotations

import math

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from pixserve.core.errors import ModelError
from pixserve.inference.bench import count_flops, psnr, time_runs


def _value(name: str, shape: list[int | str] | None) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _weight(name: str, *shape: int) -> onnx.TensorProto:
    return numpy_helper.from_array(np.zeros(shape, np.float32), name)


def _model(
    nodes: list[onnx.NodeProto], inputs: list[int | str], weights: list[onnx.TensorProto]
) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", [_value("x", inputs)], [_value("y", None)], weights)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=8)


def test_counts_grouped_conv_conv_transpose_and_matmul_exactly() -> None:
    model = _model(
        [
            # (1, 4, 8, 8) → (1, 6, 8, 8), two groups of 2 input channels
            helper.make_node("Conv", ["x", "w1"], ["h1"], group=2, pads=[1, 1, 1, 1]),
            # (1, 6, 8, 8) → (1, 2, 16, 16)
            helper.make_node("ConvTranspose", ["h1", "w2"], ["h2"], strides=[2, 2]),
            helper.make_node("Relu", ["h2"], ["h3"]),  # not counted
            # (1, 2, 16, 16) @ (16, 5) → (1, 2, 16, 5)
            helper.make_node("MatMul", ["h3", "b"], ["y"]),
        ],
        [1, 4, "h", "w"],
        [_weight("w1", 6, 2, 3, 3), _weight("w2", 6, 2, 2, 2), _weight("b", 16, 5)],
    )
    conv = 2 * (1 * 6 * 8 * 8) * (4 // 2 * 3 * 3)
    conv_transpose = 2 * (1 * 6 * 8 * 8) * (2 * 2 * 2)
    matmul = 2 * (1 * 2 * 16 * 5) * 16
    assert (conv, conv_transpose, matmul) == (13824, 6144, 5120)
    assert count_flops(model, (1, 4, 8, 8)) == conv + conv_transpose + matmul
    assert model.graph.input[0].type.tensor_type.shape.dim[2].dim_param == "h"  # not changed


def test_gemm_reads_k_from_the_transposed_side() -> None:
    model = _model(
        [helper.make_node("Gemm", ["x", "b"], ["y"], transA=1)], [3, 4], [_weight("b", 3, 5)]
    )
    assert count_flops(model, (3, 4)) == 2 * 4 * 5 * 3


def test_shapes_that_cannot_be_inferred_give_unknown() -> None:
    model = _model(
        [
            helper.make_node("Mystery", ["x"], ["h"], domain="com.example"),
            helper.make_node("Conv", ["h", "w"], ["y"]),
        ],
        [1, 3, "h", "w"],
        [_weight("w", 4, 3, 3, 3)],
    )
    assert count_flops(model, (1, 3, 16, 16)) is None
    assert count_flops(model, (1, 3, 16)) is None  # the wrong rank


def test_psnr_is_over_the_output_span_and_infinite_when_identical() -> None:
    reference = np.zeros((1, 3, 4, 4), np.float32)
    assert psnr(reference, reference.copy(), 2.0) == math.inf
    assert psnr(reference, reference + 0.1, 2.0) == pytest.approx(10 * math.log10(4 / 0.01))
    with pytest.raises(ModelError):
        psnr(reference, reference[:, :2], 2.0)


def test_time_runs_warms_up_then_times_each_run() -> None:
    calls: list[int] = []

    class Counting:
        name = "counting"

        def run(self, batch: np.ndarray) -> np.ndarray:
            calls.append(1)
            return batch * len(calls)

    output, seconds = time_runs(Counting(), np.ones(2, np.float32), runs=3, warmup=2)
    assert len(calls) == 5 and len(seconds) == 3
    assert all(s >= 0 for s in seconds)
    assert output.tolist() == [5.0, 5.0]  # the last run's output


def test_openvino_count_agrees_with_the_onnx_count(tmp_path) -> None:
    from pixserve.inference.bench import _openvino_flops, model_flops
    from tests.support.models import conv_chain_model

    path = tmp_path / "chain.onnx"
    onnx.save(conv_chain_model(layers=3, width=8), path)
    assert _openvino_flops(path, (1, 3, 64, 64)) == model_flops(path, (1, 3, 64, 64)) == 8257536
