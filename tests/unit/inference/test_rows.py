"""``RowsEngine`` (a model run a band of rows at a time) against ONNX Runtime on the whole
image, and ``BoundedEngine``'s choice between the two."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from pixserve.core.errors import BundleError, ModelError
from pixserve.inference import engines, rows
from pixserve.inference.cache import EngineCache, EnginePolicy
from pixserve.inference.onnx import OnnxEngine
from pixserve.inference.rows import BoundedEngine, RowsEngine, UnsupportedGraph
from pixserve.inference.spec import EngineSpec, Precision, Runtime
from pixserve.pipeline import BUILTIN_DIR
from tests.unit.inference.test_torch_engine import exported

RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of a few rows, so tiny test images still run in many bands."""
    monkeypatch.setattr(rows, "CHUNK_BYTES", 2048)


def images(n: int, height: int, width: int, channels: int = 3) -> np.ndarray:
    return RNG.uniform(-1, 1, (n, channels, height, width)).astype(np.float32)


def assert_same(path: Path, x: np.ndarray, engine: RowsEngine | None = None) -> None:
    want = OnnxEngine(path).run(x)
    got = (engine or RowsEngine(path)).run(x)
    assert got.shape == want.shape and got.dtype == np.float32
    scale = max(float(np.abs(want).max()), 1.0)
    assert float(np.abs(got - want).max()) <= 1e-4 * scale  # float rounding, tiled differently


@pytest.mark.parametrize("family", ["cyclegan", "pix2pixhd", "fast-style"])
def test_generators_match_the_whole_image_run(family: str, tmp_path: Path) -> None:
    path = exported(family, tmp_path)
    engine = RowsEngine(path)
    for height, width in [(64, 64), (36, 68), (100, 32)]:
        assert_same(path, images(1, height, width), engine)
    # A batch runs one image after the other. (At 32² pix2pixHD's instance norms see 2×2
    # values: so few that rounding alone moves its output by 3·10⁻⁴.)
    assert_same(path, images(2, 64, 64), engine)


def test_a_built_in_fast_style_matches(tmp_path: Path) -> None:
    path = BUILTIN_DIR / "mosaic" / "model.onnx"
    assert_same(path, (images(1, 52, 36) + 1) * 127.5)


def _model(nodes: list, inits: list, path: Path, channels: int = 3) -> Path:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, channels, None, None])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, None, None, None])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _weights(name: str, *shape: int) -> onnx.TensorProto:
    return numpy_helper.from_array(RNG.normal(0, 0.3, shape).astype(np.float32), name)


def _const(
    name: str, values: list[float] | list[int], dtype: type = np.float32
) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(values, dtype), name)


def test_every_operation_and_padding_it_runs(tmp_path: Path) -> None:
    """Zero, reflect and edge padding; strides, dilations, groups; transposed convolutions
    with padding and output padding; norms, activations and sums, each against ORT."""
    nodes = [
        helper.make_node("Pad", ["x", "p_reflect"], ["a0"], mode="reflect"),
        helper.make_node("Conv", ["a0", "w1", "b1"], ["a1"], kernel_shape=[3, 3]),
        helper.make_node("InstanceNormalization", ["a1", "s8", "t8"], ["a2"], epsilon=1e-5),
        helper.make_node("LeakyRelu", ["a2"], ["a3"], alpha=0.2),
        helper.make_node(
            "Conv", ["a3", "w2"], ["a4"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 2, 1]
        ),
        helper.make_node("BatchNormalization", ["a4", "s8", "t8", "m8", "v8"], ["a5"]),
        helper.make_node("Pad", ["a5", "p_edge"], ["a6"], mode="edge"),
        helper.make_node("Conv", ["a6", "w3"], ["a7"], kernel_shape=[3, 3], dilations=[2, 2]),
        helper.make_node(
            "Conv", ["a7", "w4"], ["a8"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=4
        ),
        helper.make_node("Add", ["a8", "a7"], ["a9"]),  # a residual sum
        helper.make_node("Mul", ["a9", "g8"], ["a10"]),
        helper.make_node("Sigmoid", ["a10"], ["a11"]),
        helper.make_node(
            "ConvTranspose",
            ["a11", "w5", "b5"],
            ["a12"],
            kernel_shape=[3, 3],
            strides=[2, 2],
            pads=[1, 1, 1, 1],
            output_padding=[1, 1],
        ),
        helper.make_node("PRelu", ["a12", "slope"], ["a13"]),
        helper.make_node(
            "ConvTranspose",
            ["a13", "w6"],
            ["a14"],
            kernel_shape=[4, 4],
            strides=[2, 2],
            pads=[1, 2, 1, 0],
        ),
        helper.make_node("Clip", ["a14", "lo", "hi"], ["a15"]),
        helper.make_node("Resize", ["a15", "", "scales"], ["a16"], mode="nearest"),
        helper.make_node("Pad", ["a16", "p_zero"], ["a17"]),
        helper.make_node("Conv", ["a17", "w7", "b7"], ["a18"], kernel_shape=[5, 5]),
        helper.make_node("Tanh", ["a18"], ["y"]),
    ]
    inits = [
        _const("p_reflect", [0, 0, 2, 1, 0, 0, 1, 2], np.int64),
        _const("p_edge", [0, 0, 1, 1, 0, 0, 1, 1], np.int64),
        _const("p_zero", [0, 0, 2, 2, 0, 0, 2, 2], np.int64),
        _weights("w1", 8, 3, 3, 3),
        _weights("b1", 8),
        _const("s8", [1.5, 0.5, 1, 2, 1, 1, 0.7, 1]),
        _weights("t8", 8),
        _weights("m8", 8),
        numpy_helper.from_array(RNG.uniform(0.5, 2, 8).astype(np.float32), "v8"),
        _weights("w2", 8, 8, 3, 3),
        _weights("w3", 8, 8, 3, 3),
        _weights("w4", 8, 2, 3, 3),
        _weights("g8", 1, 8, 1, 1),
        _weights("w5", 8, 6, 3, 3),
        _weights("b5", 6),
        _weights("slope", 6, 1, 1),
        _weights("w6", 6, 4, 4, 4),
        _const("lo", -0.8),
        _const("hi", 0.9),
        _const("scales", [1, 1, 2, 2]),
        _weights("w7", 3, 4, 5, 5),
        _weights("b7", 3),
    ]
    path = _model(nodes, inits, tmp_path / "ops.onnx")
    engine = RowsEngine(path)
    for height, width in [(24, 20), (31, 17), (16, 40)]:
        assert_same(path, images(1, height, width), engine)


def test_wide_convolutions_run_as_one_product_and_shifted_sums(tmp_path: Path) -> None:
    """A few output channels (≤ SHIFT_ADD_MAX values per pixel) take the matrix-product
    path; zero and reflect padding at the sides both hold there."""
    for mode in ("constant", "reflect"):
        path = _model(
            [
                helper.make_node("Pad", ["x", "p"], ["a"], mode=mode),
                helper.make_node("Conv", ["a", "w", "b"], ["y"], kernel_shape=[7, 7]),
            ],
            [
                _const("p", [0, 0, 3, 3, 0, 0, 3, 3], np.int64),
                _weights("w", 3, 16, 7, 7),
                _weights("b", 3),
            ],
            tmp_path / f"{mode}.onnx",
            channels=16,
        )
        engine = RowsEngine(path)
        assert "taps" in engine._steps[0].attrs
        assert_same(path, images(1, 30, 21, channels=16), engine)


@pytest.mark.parametrize(
    ("kernel", "strides", "pads", "output_padding", "group"),
    [
        ([3, 3], [2, 2], [1, 1, 1, 1], [1, 1], 1),  # a generator's upsampling
        ([4, 4], [2, 2], [1, 1, 1, 1], [0, 0], 1),
        ([2, 3], [3, 2], [0, 2, 1, 0], [2, 1], 1),  # a stride past the kernel: bias rows
        ([5, 1], [1, 3], [2, 0, 2, 0], [0, 0], 2),  # a stride past the kernel: bias columns
        ([3, 3], [1, 1], [0, 0, 0, 0], [0, 0], 1),
        ([3, 5], [2, 3], [2, 4, 0, 1], [1, 0], 2),
        ([3, 3], [2, 2], [0, 2, 0, 0], [0, 1], 1),  # 1 px wide: a phase reads padding only
    ],
)
def test_transposed_convolutions_run_as_sub_pixel_phases(
    kernel: list[int],
    strides: list[int],
    pads: list[int],
    output_padding: list[int],
    group: int,
    tmp_path: Path,
) -> None:
    """Each phase (output rows and columns modulo the stride) is an ordinary convolution
    with that phase's taps; rows or columns that no tap reaches hold the bias."""
    node = helper.make_node(
        "ConvTranspose",
        ["x", "w", "b"],
        ["y"],
        kernel_shape=kernel,
        strides=strides,
        pads=pads,
        output_padding=output_padding,
        group=group,
    )
    inits = [_weights("w", 4, 6 // group, *kernel), _weights("b", 6)]
    path = _model([node], inits, tmp_path / "transposed.onnx", channels=4)
    engine = RowsEngine(path)
    for height, width in [(13, 9), (5, 16), (3, 2), (3, 1)]:
        if (width - 1) * strides[1] + kernel[1] - pads[1] - pads[3] + output_padding[1] > 0:
            assert_same(path, images(1, height, width, channels=4), engine)


def test_two_threads_share_one_engine_and_its_arena(tmp_path: Path) -> None:
    """Workers in one process run the same engine at once: each run has its own buffers,
    and one run emptying the shared arena after a step leaves the other's blocks alone."""
    from concurrent.futures import ThreadPoolExecutor

    path = exported("cyclegan", tmp_path)
    engine = RowsEngine(path)
    inputs = [images(1, 48 + 4 * i, 40) for i in range(6)]
    want = [OnnxEngine(path).run(x) for x in inputs]
    with ThreadPoolExecutor(2) as pool:
        got = list(pool.map(engine.run, inputs))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, atol=1e-4 * max(float(np.abs(w).max()), 1.0))


def test_rows_run_without_the_shared_arena_where_it_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Another CPU arena registered in the process first: the sessions allocate on their own."""
    import onnxruntime as ort

    def taken(*args: object) -> None:
        raise RuntimeError("an allocator for this device is already registered")

    monkeypatch.setattr(ort, "create_and_register_allocator", taken)
    monkeypatch.setattr(rows, "_shrink", None)
    monkeypatch.setattr(rows, "_arena_failed", False)
    path = exported("cyclegan", tmp_path)
    assert_same(path, images(1, 40, 36))
    assert rows._arena_failed and rows._shrink is None
    assert "without a shared arena" in caplog.text


def test_pads_before_a_transposed_convolution_are_refused(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Pad", ["x", "p"], ["a"]),
        helper.make_node("ConvTranspose", ["a", "w"], ["y"], kernel_shape=[3, 3], strides=[2, 2]),
    ]
    inits = [_const("p", [0, 0, 1, 1, 0, 0, 1, 1], np.int64), _weights("w", 3, 3, 3, 3)]
    with pytest.raises(UnsupportedGraph, match="Pad before a ConvTranspose"):
        RowsEngine(_model(nodes, inits, tmp_path / "padded.onnx"))


def test_a_convolution_whose_input_is_read_again_is_not_deferred(tmp_path: Path) -> None:
    """Its second pass reads that input later: nothing else may have changed it by then."""
    nodes = [
        helper.make_node("Conv", ["x", "w0"], ["t"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["t", "w1"], ["s"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("InstanceNormalization", ["s", "s16", "t16"], ["n"]),
        helper.make_node("Conv", ["n", "w2"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["t"], ["r"]),
        helper.make_node("Add", ["c", "r"], ["y"]),
    ]
    inits = [
        _weights("w0", 4, 3, 1, 1), _weights("w1", 16, 4, 3, 3), _weights("w2", 4, 16, 3, 3),
        _const("s16", [1.0] * 16), _const("t16", [0.0] * 16),
    ]  # fmt: skip
    path = _model(nodes, inits, tmp_path / "reread.onnx")
    engine = RowsEngine(path)
    assert not any(step.attrs.get("deferred") for step in engine._steps)
    assert_same(path, images(1, 30, 20), engine)


@pytest.mark.parametrize(
    ("node", "inits"),
    [
        (helper.make_node("Concat", ["x", "x"], ["y"], axis=1), []),
        (
            helper.make_node("Resize", ["x", "", "s"], ["y"], mode="linear"),
            [_const("s", [1, 1, 2, 2])],
        ),
        (
            helper.make_node("Pad", ["x", "p"], ["y"], mode="reflect"),
            [_const("p", [0] * 8, np.int64)],
        ),
        (helper.make_node("Softmax", ["x"], ["y"], axis=1), []),
        (helper.make_node("Mul", ["x", "r"], ["y"]), [_weights("r", 1, 1, 4, 1)]),  # per row
    ],
)
def test_other_operations_are_refused_at_load(
    node: onnx.NodeProto, inits: list, tmp_path: Path
) -> None:
    with pytest.raises(UnsupportedGraph):
        RowsEngine(_model([node], inits, tmp_path / "odd.onnx"))


def test_bad_files_and_inputs_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="not found"):
        RowsEngine(tmp_path / "missing.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(BundleError, match="not an ONNX model"):
        RowsEngine(tmp_path / "junk.onnx")
    path = exported("cyclegan", tmp_path)
    with pytest.raises(ModelError, match="too small"):
        RowsEngine(path).run(images(1, 2, 2))
    with pytest.raises(ModelError):
        RowsEngine(path).run(images(1, 8, 8)[0])


def test_the_input_is_read_never_changed(tmp_path: Path) -> None:
    """Steps that work in place on an input read for the last time read the caller's batch
    directly here: a norm, a constant product, and a sum with a convolution of it."""
    nodes = [
        helper.make_node("InstanceNormalization", ["x", "s3", "t3"], ["a"]),
        helper.make_node("Mul", ["x", "g"], ["b"]),
        helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["x", "c"], ["d"]),
        helper.make_node("Add", ["a", "b"], ["e"]),
        helper.make_node("Add", ["d", "e"], ["y"]),
    ]
    inits = [
        _const("s3", [1, 2, 3]), _const("t3", [0, 1, 0]), _const("g", 3.0),
        _weights("w", 3, 3, 3, 3),
    ]  # fmt: skip
    path = _model(nodes, inits, tmp_path / "reads.onnx")
    x = images(1, 20, 12)
    kept = x.copy()
    assert_same(path, x)
    np.testing.assert_array_equal(x, kept)


def test_chunks_are_freed_as_the_bands_pass(tmp_path: Path) -> None:
    path = exported("cyclegan", tmp_path)
    engine = RowsEngine(path)
    engine.prepare()
    # A convolution that reads its input for the last time frees its chunks as it goes.
    source = rows._Rows.of(images(1, 40, 40)[0])
    conv = next(step for step in engine._steps if step.op == "Conv")
    conv.attrs["deferred"] = False
    rows._conv(conv, [source], [True])
    assert sum(chunk is not None for chunk in source.chunks) <= 2
    assert engine.largest(256, 256) == 4 * 8 * 256 * 256  # ngf 8 at full resolution


def test_the_largest_activations_are_made_twice_rather_than_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = exported("cyclegan", tmp_path)
    engine = RowsEngine(path)
    deferred = [step.op for step in engine._steps if step.attrs.get("deferred")]
    assert deferred == ["Conv", "ConvTranspose"]  # the first and last full-resolution ones
    x = images(1, 128, 128)

    def peak(engine: RowsEngine) -> int:
        engine.run(x)
        tracemalloc.start()
        try:
            engine.run(x)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    with_deferral = peak(engine)
    monkeypatch.setattr(RowsEngine, "_defer", lambda self, steps: None)
    held = RowsEngine(path)
    assert not any(step.attrs.get("deferred") for step in held._steps)
    np.testing.assert_allclose(held.run(x), engine.run(x), atol=1e-5)
    assert with_deferral < peak(held) - 0.4 * engine.largest(128, 128)


class Counting:
    """A whole-image engine that counts its runs."""

    name = "counting"
    accepts_batches = True

    def __init__(self, path: Path) -> None:
        self.engine = OnnxEngine(path)
        self.runs = 0

    def run(self, batch: np.ndarray) -> np.ndarray:
        self.runs += 1
        return self.engine.run(batch)


def test_bounded_engine_runs_only_what_exceeds_the_budget_in_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rows, "MIN_PIXELS", 32 * 32)
    path = exported("cyclegan", tmp_path)
    whole = Counting(path)
    budget = 3 * 4 * 8 * 48 * 48  # peak 3 × the largest activation of a 48² image
    bounded = BoundedEngine(whole, path, budget=budget, peak=3.0)
    assert bounded.name == "counting" and bounded.accepts_batches
    bounded.run(images(1, 48, 48))  # at the budget: whole, and the row engine only planned
    assert whole.runs == 1 and bounded._rows is not None and bounded._rows._pending
    assert_same(path, images(1, 52, 48), bounded)  # just above it: rows
    assert whole.runs == 1
    assert bounded.rows_for((2, 3, 48, 48)) is not None  # a batch counts every image
    # Photos below MIN_PIXELS (for a 256 MB budget) do not even load it.
    roomy = BoundedEngine(whole, path, budget=256 << 20, peak=3.0)
    roomy.run(images(1, 24, 24))
    assert roomy._rows is None and whole.runs == 2


def test_bounded_engine_runs_whole_when_the_rows_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_tmp(*args: object) -> None:
        raise OSError("read-only file system")

    monkeypatch.setattr(rows, "_session", no_tmp)
    path = exported("cyclegan", tmp_path)
    whole = Counting(path)
    bounded = BoundedEngine(whole, path, budget=1, peak=3.0)
    assert_same(path, images(1, 400, 400), bounded)
    bounded.run(images(1, 400, 400))
    assert whole.runs == 2 and bounded._unsupported


def test_bounded_engine_keeps_a_model_it_cannot_run_in_rows_whole(tmp_path: Path) -> None:
    path = _model([helper.make_node("Concat", ["x", "x"], ["y"], axis=1)], [], tmp_path / "c.onnx")
    whole = Counting(path)
    bounded = BoundedEngine(whole, path, budget=1, peak=3.0)
    for _ in range(2):
        bounded.run(images(1, 400, 400))
    assert whole.runs == 2 and bounded._unsupported


def test_the_cache_bounds_cpu_fp32_engines_only(tmp_path: Path) -> None:
    path = exported("cyclegan", tmp_path)
    policy = EnginePolicy("onnxruntime", "fp32", run_memory_mb=64)
    assert isinstance(EngineCache(policy=policy).get(path), BoundedEngine)
    if engines.openvino_installed():
        openvino = EngineCache(policy=policy).get(path, EngineSpec(Runtime.OPENVINO))
        assert isinstance(openvino, BoundedEngine)
        bf16 = EngineSpec(Runtime.OPENVINO, precision=Precision.BF16)
        assert not isinstance(EngineCache(policy=policy).get(path, bf16), BoundedEngine)
    assert not isinstance(EngineCache().get(path), BoundedEngine)  # no budget: whole
    int8 = EngineCache(policy=policy).get(
        path, EngineSpec(precision=Precision.INT8), lambda: [images(1, 32, 32)]
    )
    assert not isinstance(int8, BoundedEngine)
