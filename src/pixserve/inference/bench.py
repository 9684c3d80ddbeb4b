"""``pixserve bench model``: how fast an engine runs one model on this machine, and how close
it stays to ONNX Runtime fp32.

Per engine: images/s, latency p50 and p99 over timed runs after a warm-up, the model's
effective GFLOP/s, that rate as a share of this machine's fp32 matrix-multiply rate
(measured in the same run, so the two figures share the machine's state), the process's
peak RSS so far, and the PSNR of the output against fp32 on the same input. The caller
decides the engine (through the cache's policy, as serving does) and makes the input.
"""

from __future__ import annotations

import math
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import onnx

from pixserve.inference.cache import EngineCache, psnr
from pixserve.inference.engine import Engine
from pixserve.inference.engines import time_runs
from pixserve.inference.rows import unbounded
from pixserve.inference.spec import BASELINE, EngineSpec

#: Side of the square float32 matrices whose product gives the machine's matmul rate.
MATMUL_N = 2048
#: The operators whose arithmetic is counted (multiply-adds); the rest is left out.
COUNTED_OPS = ("Conv", "ConvTranspose", "MatMul", "Gemm")


@dataclass(frozen=True)
class Row:
    """One engine's figures on the model."""

    spec: EngineSpec
    #: Seconds of each timed run, in order.
    seconds: tuple[float, ...]
    #: Images per run (the batch's first axis).
    batch: int
    #: Model FLOPs per run at this input shape; None where they could not be counted.
    flops: int | None
    #: This machine's fp32 matmul rate, GFLOP/s, measured in the same run.
    matmul_gflops: float
    #: PSNR (dB) against ONNX Runtime fp32 on the same input; inf when identical.
    psnr: float
    peak_rss_mb: float

    @property
    def images_per_second(self) -> float:
        return self.batch * len(self.seconds) / sum(self.seconds)

    @property
    def p50_ms(self) -> float:
        return float(np.percentile(self.seconds, 50)) * 1e3

    @property
    def p99_ms(self) -> float:
        return float(np.percentile(self.seconds, 99)) * 1e3

    @property
    def gflops(self) -> float | None:
        """Effective GFLOP/s: counted FLOPs over the mean time of a run."""
        if self.flops is None:
            return None
        return self.flops * len(self.seconds) / sum(self.seconds) / 1e9

    @property
    def matmul_percent(self) -> float | None:
        """:attr:`gflops` as a % of the fp32 matmul rate (above 100 is possible in bf16)."""
        gflops = self.gflops
        return None if gflops is None else 100 * gflops / self.matmul_gflops

    def as_dict(self) -> dict[str, object]:
        """The row as JSON values (PSNR null and ``exact`` true when identical to fp32)."""
        return {
            "engine": f"{self.spec.runtime}/{self.spec.device}",
            "precision": str(self.spec.precision),
            "images_per_second": self.images_per_second,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "gflops": self.gflops,
            "matmul_percent": self.matmul_percent,
            "psnr_db": None if math.isinf(self.psnr) else self.psnr,
            "exact": math.isinf(self.psnr),
            "peak_rss_mb": self.peak_rss_mb,
        }


@dataclass(frozen=True)
class Report:
    """Every row measured, in order: ONNX Runtime fp32 first when compared."""

    rows: tuple[Row, ...]
    matmul_gflops: float
    #: True when a comparison was asked for and the chosen engine is fp32 ORT itself.
    same_engine: bool = False

    @property
    def speedup(self) -> float | None:
        """The chosen engine's images/s over fp32 ORT's, when both were measured."""
        if len(self.rows) < 2:
            return None
        return self.rows[-1].images_per_second / self.rows[0].images_per_second


def bench_model(
    cache: EngineCache,
    path: Path,
    chosen: tuple[Engine, EngineSpec],
    batch: np.ndarray,
    *,
    span: float,
    compare: bool = False,
    runs: int = 10,
    warmup: int = 2,
) -> Report:
    """Measure ``chosen`` (an engine and its spec, as the cache decided) on ``batch``, and
    ONNX Runtime fp32 beside it when ``compare``. ``span`` is the width of the model's
    output range, for the PSNR."""
    matmul = matmul_gflops()
    flops = model_flops(path, batch.shape)
    baseline = unbounded(cache.get(path))  # ONNX Runtime fp32 on the whole image, always
    reference = baseline.run(batch)
    engine, spec = chosen
    same = replace(spec, threads=None) == BASELINE
    measured = [(baseline, BASELINE)] if compare and not same else []
    rows = []
    for runner, runner_spec in [*measured, (engine, spec)]:
        output, seconds = time_runs(runner, batch, runs=runs, warmup=warmup)
        fidelity = psnr(reference, output, span)
        rows.append(Row(runner_spec, seconds, len(batch), flops, matmul, fidelity, peak_rss_mb()))
    return Report(tuple(rows), matmul, same_engine=compare and same)


def matmul_gflops(n: int | None = None, repeats: int = 3) -> float:
    """This machine's fp32 matrix-multiply rate in GFLOP/s: numpy ``a @ b`` of n×n float32
    matrices (default :data:`MATMUL_N`), the best of ``repeats``, as ``2·n³ / t``."""
    n = n or MATMUL_N
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / (1 << 10)  # bytes / KiB


def model_flops(path: Path, input_shape: Sequence[int]) -> int | None:
    """:func:`count_flops` of the ONNX file at ``path`` (a single file, weights inside);
    where ONNX's shape inference cannot follow computed shapes (the pads of a traced
    ``ReflectionPad2d``), the same count over OpenVINO's shape propagation."""
    return count_flops(onnx.load(str(path)), input_shape) or _openvino_flops(path, input_shape)


def _openvino_flops(path: Path, input_shape: Sequence[int]) -> int | None:
    """Convolutions, transposed convolutions and matmuls counted on OpenVINO's graph."""
    try:
        import openvino as ov

        model = ov.Core().read_model(str(path))
        model.reshape({0: list(input_shape)})
    except Exception:  # not installed, or OpenVINO cannot read or reshape the model
        return None
    total = 0
    for op in model.get_ordered_ops():
        kind = op.get_type_name()
        if kind not in ("Convolution", "GroupConvolution", "ConvolutionBackpropData", "MatMul"):
            continue
        try:
            x = list(op.get_input_shape(0))
            w = list(op.get_input_shape(1))
            out = list(op.get_output_shape(0))
        except RuntimeError:  # a dynamic shape left
            return None
        if kind == "Convolution":  # w: [C_out, C_in, kH, kW]
            total += 2 * math.prod(out) * math.prod(w[1:])
        elif kind == "GroupConvolution":  # w: [G, C_out/G, C_in/G, kH, kW]
            total += 2 * math.prod(out) * math.prod(w[2:])
        elif kind == "ConvolutionBackpropData":  # w: [C_in, C_out, kH, kW]
            total += 2 * math.prod(x) * math.prod(w[1:])
        else:  # MatMul: out = [..., M, N], K = the inner dimension of the first input
            transposed = bool(op.get_attributes().get("transpose_a", False))
            total += 2 * math.prod(out) * (x[-2] if transposed else x[-1])
    return total or None


def count_flops(model: onnx.ModelProto, input_shape: Sequence[int]) -> int | None:
    """FLOPs of one run of ``model`` with its input fixed to ``input_shape``.

    Counted as 2 × multiply-adds of the top-level graph's ``Conv`` (2·N·C_out·H_out·W_out
    ·(C_in/groups)·kH·kW), ``ConvTranspose`` (2·N·C_in·H_in·W_in·(C_out/groups)·kH·kW),
    ``MatMul`` and ``Gemm`` (2·M·N·K, batch dimensions included). Everything else
    (activations, normalisation, additions, resizes, bias terms, subgraphs of ``If`` or
    ``Loop``) is left out: on image models it is a few per cent. None when ONNX shape
    inference cannot give every counted node concrete shapes.
    """
    shapes = _concrete_shapes(model, input_shape)
    if shapes is None:
        return None
    total = 0
    for node in model.graph.node:
        if node.op_type not in COUNTED_OPS or node.domain not in ("", "ai.onnx"):
            continue
        flops = _node_flops(node, shapes)
        if flops is None:
            return None
        total += flops
    return total


def _node_flops(node: onnx.NodeProto, shapes: dict[str, tuple[int, ...]]) -> int | None:
    x, w = (shapes.get(name) for name in node.input[:2])
    y = shapes.get(node.output[0])
    if x is None or w is None or y is None:
        return None
    if node.op_type == "Conv":  # w: (C_out, C_in/groups, kH, kW)
        return 2 * math.prod(y) * math.prod(w[1:])
    if node.op_type == "ConvTranspose":  # w: (C_in, C_out/groups, kH, kW)
        return 2 * math.prod(x) * math.prod(w[1:])
    if node.op_type == "Gemm":
        trans_a = any(a.name == "transA" and a.i for a in node.attribute)
        return 2 * math.prod(y) * (x[0] if trans_a else x[-1])
    return 2 * math.prod(y) * x[-1]  # MatMul: (…, M, K) @ (…, K, N)


def _concrete_shapes(
    model: onnx.ModelProto, input_shape: Sequence[int]
) -> dict[str, tuple[int, ...]] | None:
    """Every tensor's shape after inference with the input fixed (only fully known ones)."""
    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    graph = fixed.graph
    weights = {init.name for init in graph.initializer}
    inputs = [i for i in graph.input if i.name not in weights]
    if len(inputs) != 1 or len(inputs[0].type.tensor_type.shape.dim) != len(input_shape):
        return None
    for dim, size in zip(inputs[0].type.tensor_type.shape.dim, input_shape, strict=True):
        dim.Clear()
        dim.dim_value = int(size)
    del graph.value_info[:]  # shapes recorded for another input size would conflict
    try:
        inferred = onnx.shape_inference.infer_shapes(fixed, data_prop=True).graph
    except Exception:  # onnx raises several untyped C++ exception classes
        return None
    shapes = {init.name: tuple(init.dims) for init in inferred.initializer}
    for info in [*inferred.input, *inferred.value_info, *inferred.output]:
        dims = info.type.tensor_type.shape.dim
        if info.type.tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in dims):
            shapes[info.name] = tuple(d.dim_value for d in dims)
    return shapes
