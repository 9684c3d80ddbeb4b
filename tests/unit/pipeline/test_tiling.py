"""Tiling: coverage, blend weights, and tiled output agreeing with the untiled one."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from pixserve.bundling.probe import probe_rgb
from pixserve.inference import OnnxEngine
from pixserve.pipeline.style import ModelSpec, ValueRange
from pixserve.pipeline.tiling import blend_weights, run_model, tile_starts


def local_upscaler(
    path: Path, *, scale: int, layers: int = 4, seed: int = 0, batch: int | str = 1
) -> Path:
    """3×3 convolutions (receptive radius ``layers`` px), then depth-to-space ×``scale``;
    the batch axis is ``batch`` (fixed at one, or named: any size)."""
    rng = np.random.default_rng(seed)
    nodes, inits, prev = [], [], "x"
    widths = [3] + [8] * (layers - 1) + [3 * scale * scale]
    for i in range(layers):
        w = rng.normal(0, 0.4, (widths[i + 1], widths[i], 3, 3)).astype(np.float32)
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        nodes.append(helper.make_node("Conv", [prev, f"w{i}"], [f"c{i}"], pads=[1, 1, 1, 1]))
        prev = f"c{i}"
        if i < layers - 1:
            nodes.append(helper.make_node("Tanh", [prev], [f"t{i}"]))
            prev = f"t{i}"
    nodes.append(helper.make_node("DepthToSpace", [prev], ["d"], blocksize=scale, mode="CRD"))
    nodes.append(helper.make_node("Sigmoid", ["d"], ["y"]))
    graph = helper.make_graph(
        nodes,
        "local",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, "h", "w"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 3, "H", "W"])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize(("length", "tile", "overlap"), [(100, 32, 8), (64, 64, 8), (97, 40, 16)])
def test_tiles_cover_the_axis_and_overlap(length: int, tile: int, overlap: int) -> None:
    starts = tile_starts(length, tile, overlap)
    assert starts[0] == 0 and starts[-1] + min(tile, length) == length
    assert all(b - a <= tile - overlap for a, b in itertools.pairwise(starts))


@pytest.mark.parametrize("scale", [1, 2, 4])
def test_blend_weights_sum_to_one(scale: int) -> None:
    starts = tile_starts(150, 48, 16)
    weights = blend_weights(starts, 48, 16, scale)
    total = np.zeros(150 * scale)
    for s, w in zip(starts, weights, strict=True):
        assert w.min() >= 0
        total[s * scale : (s + 48) * scale] += w
    np.testing.assert_allclose(total, 1.0, rtol=1e-6)


@pytest.mark.parametrize("scale", [1, 2, 4])
def test_tiled_matches_untiled_away_from_borders(tmp_path: Path, scale: int) -> None:
    path = local_upscaler(tmp_path / "m.onnx", scale=scale)
    engine = OnnxEngine(path)
    spec = ModelSpec(path=path, range=ValueRange.UNIT, scale=scale, tile=64, tile_overlap=24)
    rgb = probe_rgb(157, 203, seed=1)
    whole = run_model(engine, spec.model_copy(update={"tile": 0}), rgb)
    tiled = run_model(engine, spec, rgb)
    assert tiled.shape == whole.shape == (157 * scale, 203 * scale, 3)
    # Receptive radius 4 px < a quarter of the overlap: tile borders never reach the result.
    diff = np.abs(tiled.astype(int) - whole.astype(int))
    assert diff.max() <= 1


def test_seams_are_blended_for_global_models(tmp_path: Path) -> None:
    """A model with image-wide statistics differs per tile; blending keeps seams soft."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "h", "w"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, "h", "w"])
    scale_t = numpy_helper.from_array(np.ones(3, np.float32), "s")
    bias_t = numpy_helper.from_array(np.zeros(3, np.float32), "b")
    node = helper.make_node("InstanceNormalization", ["x", "s", "b"], ["n"])
    squash = helper.make_node("Sigmoid", ["n"], ["y"])
    graph = helper.make_graph([node, squash], "g", [x], [y], [scale_t, bias_t])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "g.onnx"))
    yy, xx = np.mgrid[0:150, 0:150]
    smooth = np.stack([xx * 1.2, yy * 1.5, (xx + yy) * 0.6], axis=2).clip(0, 255)
    rgb = smooth.astype(np.uint8)
    jumps = {}
    for overlap in (0, 24):  # 0: tiles simply abut, the seams show
        spec = ModelSpec(
            path=tmp_path / "g.onnx", range=ValueRange.UNIT, tile=64, tile_overlap=overlap
        )
        out = run_model(OnnxEngine(spec.path), spec, rgb).astype(float)
        rows = np.abs(np.diff(out, axis=0)).max(axis=(1, 2))
        cols = np.abs(np.diff(out, axis=1)).max(axis=(0, 2))
        jumps[overlap] = (max(rows.max(), cols.max()), np.median(rows))
    hard, blended = jumps[0], jumps[24]
    assert hard[0] > 10 * hard[1]  # the unblended seam is a visible step …
    assert blended[0] <= 4 * blended[1]  # … blending spreads it below a few grey levels/px


def test_tiles_report_progress_one_by_one(tmp_path: Path) -> None:
    path = local_upscaler(tmp_path / "m.onnx", scale=2, layers=2)
    spec = ModelSpec(path=path, range=ValueRange.UNIT, scale=2, tile=64, tile_overlap=16)
    rgb = probe_rgb(150, 230, seed=2)
    tiles = len(tile_starts(150, 64, 16)) * len(tile_starts(230, 64, 16))
    seen: list[float] = []
    out = run_model(OnnxEngine(path), spec, rgb, seen.append)
    assert out.shape == (300, 460, 3)
    assert tiles == 3 * 5 and seen == [(i + 1) / tiles for i in range(tiles)]
    untiled: list[float] = []
    run_model(OnnxEngine(path), spec.model_copy(update={"tile": 0}), rgb, untiled.append)
    assert untiled == [1.0]


def test_tiles_of_a_band_can_share_a_run_with_the_same_output(tmp_path: Path) -> None:
    path = local_upscaler(tmp_path / "m.onnx", scale=2, layers=2, batch="n")
    spec = ModelSpec(path=path, range=ValueRange.UNIT, scale=2, tile=64, tile_overlap=16)
    rgb = probe_rgb(150, 230, seed=3)  # 3 bands of 5 tiles
    engine = OnnxEngine(path)
    sizes: list[int] = []

    class Counting:
        name = "counting"
        accepts_batches = True

        def run(self, batch: np.ndarray) -> np.ndarray:
            sizes.append(batch.shape[0])
            return engine.run(batch)

    one_by_one = run_model(engine, spec, rgb)
    seen: list[float] = []
    together = run_model(Counting(), spec, rgb, seen.append, tiles_per_run=3)
    assert sizes == [3, 2] * 3
    assert seen == [3 / 15, 5 / 15, 8 / 15, 10 / 15, 13 / 15, 1.0]
    np.testing.assert_array_equal(together, one_by_one)


def test_tiles_run_one_at_a_time_on_a_cpu_and_in_batches_on_a_gpu(tmp_path: Path) -> None:
    from pixserve.inference.cache import Decision
    from pixserve.inference.spec import GPU_BATCH, Device, EngineSpec
    from pixserve.pipeline.tiling import tiles_per_run

    free = OnnxEngine(local_upscaler(tmp_path / "free.onnx", scale=2, batch="n"))
    fixed = OnnxEngine(local_upscaler(tmp_path / "fixed.onnx", scale=2))
    cpu, gpu = Decision(EngineSpec(), "cpu"), Decision(EngineSpec(device=Device.CUDA), "gpu")
    assert tiles_per_run(free, cpu) == 1
    assert tiles_per_run(free, gpu) == GPU_BATCH
    assert tiles_per_run(fixed, gpu) == 1  # its batch axis is fixed at one
    assert tiles_per_run(free, None) == 1
