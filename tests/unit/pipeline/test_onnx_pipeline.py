"""ONNX styles end to end, with tiny models checked against numpy for odd image sizes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pixserve.core.errors import BundleError, ModelError
from pixserve.domain import Crop
from pixserve.inference import EngineCache
from pixserve.pipeline import build_pipeline, load_bundle
from tests.unit.inference import tiny_models
from tests.unit.pipeline.bundles import onnx_toml, write_bundle

H, W = 257, 301  # odd, and not a multiple of anything


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, (H, W, 3), dtype=np.uint8)


def run_style(
    tmp_path: Path, model: Path, model_lines: str, pixels: np.ndarray, **kw
) -> np.ndarray:
    pipeline_lines = kw.pop("pipeline", "")
    bundle = write_bundle(tmp_path, "s", onnx_toml("s", model_lines, pipeline_lines), model)
    pipeline = build_pipeline(load_bundle(bundle), EngineCache(threads=1))
    assert pipeline.names[:3] == ["crop", "limit_size", "model"]
    return pipeline.run(pixels, **kw)


def test_nchw_signed_range_negative(tmp_path: Path, image: np.ndarray) -> None:
    model = tiny_models.negate(tmp_path / "m.onnx")
    out = run_style(tmp_path, model, 'range = "-1..1"', image)
    assert out.shape == image.shape
    np.testing.assert_allclose(out, 255 - image.astype(int), atol=1)


def test_nchw_unit_range_channel_gains(tmp_path: Path, image: np.ndarray) -> None:
    model = tiny_models.channel_gains(tmp_path / "m.onnx", (1.0, 0.5, 0.0), layout="NCHW")
    out = run_style(tmp_path, model, 'range = "0..1"\nlayout = "NCHW"', image)
    expected = np.rint(image * np.array([1.0, 0.5, 0.0])).astype(np.uint8)
    np.testing.assert_allclose(out, expected, atol=1)


def test_nhwc_bgr_byte_range(tmp_path: Path, image: np.ndarray) -> None:
    # In the model's BGR order: keep blue, halve green, drop red.
    model = tiny_models.channel_gains(tmp_path / "m.onnx", (1.0, 0.5, 0.0), layout="NHWC")
    lines = 'range = "0..255"\nlayout = "NHWC"\nchannels = "BGR"'
    out = run_style(tmp_path, model, lines, image)
    expected = np.rint(image * np.array([0.0, 0.5, 1.0])).astype(np.uint8)  # RGB
    np.testing.assert_allclose(out, expected, atol=1)


def test_scale_two_upscaler(tmp_path: Path, image: np.ndarray) -> None:
    model = tiny_models.upscale2(tmp_path / "m.onnx")
    out = run_style(tmp_path, model, 'range = "0..1"\nscale = 2', image)
    assert out.shape == (2 * H, 2 * W, 3)
    np.testing.assert_allclose(out, image.repeat(2, axis=0).repeat(2, axis=1), atol=1)


def test_scale_two_upscaler_with_resize_to_input(tmp_path: Path, image: np.ndarray) -> None:
    model = tiny_models.upscale2(tmp_path / "m.onnx")
    out = run_style(
        tmp_path, model, 'range = "0..1"\nscale = 2', image, pipeline='post = ["resize_to_input"]'
    )
    assert out.shape == image.shape


def test_size_multiple_pads_and_crops_back(tmp_path: Path, image: np.ndarray) -> None:
    model = tiny_models.needs_multiple_of_8(tmp_path / "m.onnx")
    out = run_style(tmp_path, model, 'range = "-1..1"\nsize_multiple = 8', image)
    assert out.shape == image.shape
    np.testing.assert_allclose(out, image, atol=1)


def test_without_size_multiple_the_model_fails_cleanly(tmp_path: Path, image: np.ndarray) -> None:
    model = tiny_models.needs_multiple_of_8(tmp_path / "m.onnx")
    # The stride-8 Conv floors the size, so the output comes back too small.
    with pytest.raises(ModelError, match="301×257"):
        run_style(tmp_path, model, 'range = "-1..1"', image)


def test_wrong_declared_scale_is_a_model_error(tmp_path: Path, image: np.ndarray) -> None:
    model = tiny_models.negate(tmp_path / "m.onnx")
    with pytest.raises(ModelError, match="scale 2"):
        run_style(tmp_path, model, 'range = "-1..1"\nscale = 2', image)


def test_single_channel_output_becomes_grey(tmp_path: Path, image: np.ndarray) -> None:
    model = tiny_models.single_channel(tmp_path / "m.onnx")
    out = run_style(tmp_path, model, 'range = "0..1"', image)
    expected = np.rint(image.astype(np.float64).mean(axis=2))
    for c in range(3):
        np.testing.assert_allclose(out[..., c], expected, atol=1)


def test_crop_limit_and_progress_with_a_model(tmp_path: Path, image: np.ndarray) -> None:
    model = tiny_models.negate(tmp_path / "m.onnx")
    seen: list[float] = []
    out = run_style(
        tmp_path,
        model,
        'range = "-1..1"',
        image,
        pipeline="max_side = 64",
        crop=Crop(5, 7, 129, 65),
        progress=seen.append,
    )
    assert out.shape == (32, 64, 3)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen)


@pytest.mark.parametrize("shape", [(1, 1), (3, 500), (9, 2)])
def test_tiny_images_with_padding(tmp_path: Path, shape: tuple[int, int]) -> None:
    pixels = np.random.default_rng(3).integers(0, 256, (*shape, 3), dtype=np.uint8)
    model = tiny_models.needs_multiple_of_8(tmp_path / "m.onnx")
    out = run_style(tmp_path, model, 'range = "0..1"\nsize_multiple = 8', pixels)
    np.testing.assert_allclose(out, pixels, atol=1)


def test_fixed_input_size_resizes_in_and_back(tmp_path: Path, image: np.ndarray) -> None:
    # The model sees exactly 64×64 (a fixed-size model would fail on anything else); the
    # result has the image's size again.
    seen: list[tuple[int, ...]] = []
    model = tiny_models.negate(tmp_path / "m.onnx")
    bundle = write_bundle(tmp_path, "s", onnx_toml("s", 'range = "-1..1"\ninput_size = 64'), model)
    pipeline = build_pipeline(load_bundle(bundle), EngineCache(threads=1))
    engine = pipeline.steps[2].engine  # type: ignore[attr-defined]
    run = engine.run
    engine.run = lambda batch: seen.append(batch.shape) or run(batch)
    out = pipeline.run(image)
    assert seen == [(1, 3, 64, 64)]
    assert out.shape == image.shape
    # A smooth image survives the round trip through 64² closely.
    smooth = np.repeat(np.linspace(0, 255, W, dtype=np.uint8)[None, :, None], H, 0).repeat(3, 2)
    back = pipeline.run(smooth)
    assert np.abs(back.astype(int) - (255 - smooth.astype(int))).mean() < 2


def test_fixed_input_size_cannot_be_tiled(tmp_path: Path) -> None:
    model = tiny_models.negate(tmp_path / "m.onnx")
    lines = 'range = "-1..1"\ninput_size = 64\ntile = 128'
    with pytest.raises(BundleError, match="fixed input_size"):
        load_bundle(write_bundle(tmp_path, "s", onnx_toml("s", lines), model))
