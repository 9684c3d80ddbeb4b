"""The torch engine runs pixserve's ONNX models as ONNX Runtime does: every family
``pixserve import`` exports, the built-in styles and a converted upscaler, checked on the
CPU against ONNX Runtime fp32 (the GPU runs the same code on another device)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from pixserve.bundling.onnx_export import export_onnx
from pixserve.core.errors import BundleError
from pixserve.core.tensor_io import ValueRange
from pixserve.inference import engines
from pixserve.inference.cache import EngineCache, EnginePolicy
from pixserve.inference.onnx import OnnxEngine
from pixserve.inference.spec import Device, EngineSpec, Precision, Runtime
from pixserve.inference.torch_onnx import TorchEngine
from pixserve.models import (
    LoadedModel,
    ModelIO,
    animegan2,
    compact,
    pix2pixhd,
    registry,
    resnet_generator,
    rrdbnet,
    srvgg,
    transformer_net,
    ugatit,
    unet_generator,
)
from pixserve.pipeline import BUILTIN_DIR
from pixserve.pipeline.upscalers import get_upscaler, onnx_path
from tests.support.models import conv_chain_model

TORCH_FP32 = EngineSpec(Runtime.TORCH)

#: One small module of every family ``pixserve import`` reads (random weights).
FAMILIES = {
    "cyclegan": lambda: resnet_generator.ResnetGenerator(
        resnet_generator.ResnetGeneratorConfig(ngf=8, n_blocks=2)
    ),
    "pix2pix": lambda: unet_generator.UnetGenerator(
        unet_generator.UnetGeneratorConfig(ngf=8, num_downs=5)
    ),
    "pix2pixhd": lambda: pix2pixhd.GlobalGenerator(pix2pixhd.Pix2PixHDConfig(ngf=8)),
    "fast-style": lambda: transformer_net.TransformerNet(transformer_net.TransformerNetConfig()),
    "compact": lambda: compact.CompactNet(compact.CompactConfig()),
    "animegan2": lambda: animegan2.Generator(animegan2.AnimeGAN2Config()),
    "realesrgan": lambda: rrdbnet.RRDBNet(rrdbnet.RRDBNetConfig(num_block=1)),
    "srvgg": lambda: srvgg.SRVGGNetCompact(srvgg.SRVGGConfig()),
}


def exported(family: str, folder: Path) -> Path:
    module = FAMILIES[family]()
    loaded = registry.load_family(
        "realesrgan" if family == "srvgg" else family, module.state_dict()
    )
    path = folder / f"{family}.onnx"
    export_onnx(loaded, path)
    return path


@pytest.mark.parametrize(("source", "light"), [("pytorch", False), ("tensorflow", True)])
def test_u_gat_it_matches_onnx_runtime(source: str, light: bool, tmp_path: Path) -> None:
    """The selfie-to-anime generator: AdaLIN (means, roots, an MLP) as both codes wrote it."""
    cfg = ugatit.UgatitConfig(
        ngf=8, n_blocks=2, img_size=64, light=light, source=source,
        rho_offset=0.1 if source == "tensorflow" else 0.0,
    )  # fmt: skip
    loaded = LoadedModel(
        "ugatit", ugatit.UgatitGenerator(cfg).eval(), cfg,
        ModelIO(range=ValueRange.SIGNED, input_size=64),
    )  # fmt: skip
    path = tmp_path / "ugatit.onnx"
    export_onnx(loaded, path)
    assert_close(path, batch(64, 64), TorchEngine(path, TORCH_FP32))


def batch(height: int = 64, width: int = 48, n: int = 2, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n, 3, height, width)).astype(np.float32)


def assert_close(path: Path, x: np.ndarray, engine: TorchEngine) -> None:
    want, got = OnnxEngine(path).run(x), engine.run(x)
    assert got.shape == want.shape and got.dtype == np.float32
    scale = max(float(np.abs(want).max()), 1.0)
    assert float(np.abs(got - want).max()) <= 2e-4 * scale


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_imported_family_matches_onnx_runtime(family: str, tmp_path: Path) -> None:
    path = exported(family, tmp_path)
    assert_close(path, batch(64, 64), TorchEngine(path, TORCH_FP32))  # a multiple of 32


@pytest.mark.parametrize("style", ["mosaic", "oil-fast"])
def test_built_in_styles_match_onnx_runtime(style: str) -> None:
    path = BUILTIN_DIR / style / "model.onnx"
    pixels = (batch(52, 36) + 1) * 127.5  # mosaic takes 0..255, oil-fast -1..1: both run
    assert_close(
        path, pixels if style == "mosaic" else batch(52, 36), TorchEngine(path, TORCH_FP32)
    )


def test_a_converted_upscaler_matches_onnx_runtime(tmp_path: Path) -> None:
    path = onnx_path(get_upscaler("waifu2x-photo-2x-noise1"), tmp_path)
    x = (batch(40, 32) + 1) / 2
    assert_close(path, x, TorchEngine(path, TORCH_FP32))


def test_bf16_passes_the_fidelity_floor_on_a_generator(tmp_path: Path) -> None:
    path = exported("cyclegan", tmp_path)
    x = batch(n=1)
    want = OnnxEngine(path).run(x)
    got = TorchEngine(path, EngineSpec(Runtime.TORCH, precision=Precision.BF16)).run(x)
    psnr = 10 * np.log10(4 / np.mean((want - got) ** 2))  # output range −1..1
    assert 35 < psnr < 80  # rounded, but far above the floor


def test_batch_axis_and_images_kept_apart(tmp_path: Path) -> None:
    fixed = tmp_path / "fixed.onnx"
    onnx.save(conv_chain_model(layers=2, width=4), fixed)
    assert not TorchEngine(fixed, TORCH_FP32).accepts_batches
    path = exported("cyclegan", tmp_path)
    engine = TorchEngine(path, TORCH_FP32)
    assert engine.accepts_batches
    both = engine.run(batch(n=2))
    np.testing.assert_allclose(both[1:], engine.run(batch(n=2)[1:]), atol=1e-5)


def test_an_operator_it_does_not_know_is_refused_at_load(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Hardmax", ["x"], ["y"])],
        "odd",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3, "h", "w"])],
    )
    path = tmp_path / "odd.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    with pytest.raises(BundleError, match=r"cannot run operator.*Hardmax"):
        TorchEngine(path, TORCH_FP32)


def test_a_gpu_seen_only_by_torch_is_chosen_in_fp16() -> None:
    from tests.unit.inference.test_engines import EPYC

    choice = engines.choose(EPYC, cuda=False, openvino=True, torch_cuda=True)
    assert choice.spec == EngineSpec(Runtime.TORCH, Device.CUDA, Precision.FP16)
    assert engines.choose(EPYC, cuda=True, openvino=True, torch_cuda=True).spec.runtime is (
        Runtime.ONNXRUNTIME
    )  # onnxruntime-gpu, where installed, comes first
    assert engines.supported(EngineSpec(Runtime.TORCH, Device.CPU, Precision.FP16), EPYC)
    assert engines.supported(EngineSpec(Runtime.TORCH, Device.CUDA, Precision.INT8), EPYC)
    assert engines.supported(TORCH_FP32, EPYC) is None


def test_the_engine_cache_runs_a_model_on_torch_when_asked(tmp_path: Path) -> None:
    path = exported("fast-style", tmp_path)
    cache = EngineCache(policy=EnginePolicy("torch/cpu/fp32", "auto", threads=1))
    engine, decision = cache.resolve(path, lambda: [batch(n=1)], 255.0)
    assert isinstance(engine, TorchEngine) and str(decision.spec) == "torch/cpu/fp32"


def test_engine_torch_means_the_gpu_where_torch_sees_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pixserve.inference import cache as cache_module

    policy = EnginePolicy("torch", "auto")
    monkeypatch.setattr(cache_module, "torch_cuda", lambda: False)
    assert EngineCache(policy=policy)._candidates(policy)[0] == [TORCH_FP32]
    monkeypatch.setattr(cache_module, "torch_cuda", lambda: True)
    gpu = EngineSpec(Runtime.TORCH, Device.CUDA, Precision.FP16)
    assert EngineCache(policy=policy)._candidates(policy)[0] == [gpu]


def test_channels_last_gives_the_same_images(tmp_path: Path) -> None:
    path = exported("cyclegan", tmp_path)
    x = batch(64, 64)
    nchw = TorchEngine(path, TORCH_FP32).run(x)
    nhwc = TorchEngine(path, TORCH_FP32, channels_last=True).run(x)
    assert nhwc.flags.c_contiguous
    np.testing.assert_allclose(nhwc, nchw, atol=1e-4)


def test_pix2pix_with_running_statistics_matches_onnx_runtime(tmp_path: Path) -> None:
    """``pixserve import pix2pix --eval``: BatchNorm with its running statistics."""
    module = FAMILIES["pix2pix"]()
    loaded = registry.load_family("pix2pix", module.state_dict(), batch_stats="running")
    path = tmp_path / "eval.onnx"
    export_onnx(loaded, path)
    assert "BatchNormalization" in {node.op_type for node in onnx.load(str(path)).graph.node}
    assert_close(path, batch(64, 64), TorchEngine(path, TORCH_FP32))
