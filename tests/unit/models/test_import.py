"""Acceptance: each family's native checkpoint → ``pixserve import`` → served output.

Every case builds a small random-weight network, saves it the way its home repository
does (legacy-key variants included), imports it through the real CLI, and checks the
bundle's ONNX output on an odd-sized image against the PyTorch forward pass (≤ 1e-4 of the
value range, fp32) and the full pipeline's uint8 image against the rounded PyTorch output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from pixserve.bundling.probe import probe_rgb
from pixserve.cli.main import cli
from pixserve.inference import EngineCache
from pixserve.models import animegan2, compact, resnet_generator, rrdbnet, srvgg, transformer_net
from pixserve.models import unet_generator as unet
from pixserve.pipeline import build_pipeline, load_bundle
from pixserve.pipeline.tensor import from_tensor, to_tensor

SPAN = {"0..1": 1.0, "-1..1": 2.0, "0..255": 255.0}
H, W = 257, 301  # odd on purpose


def randomise(module: nn.Module, seed: int) -> nn.Module:
    """Random weights (and random running statistics), so nothing is an identity by luck."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if tensor.dtype.is_floating_point:
                if name.endswith("running_var"):
                    tensor.copy_(torch.rand(tensor.shape, generator=gen) + 0.5)
                else:
                    tensor.copy_(torch.randn(tensor.shape, generator=gen) * 0.2)
    return module.eval()


def legacy_instance_norm_keys(state: dict[str, torch.Tensor], norms: list[str], c: list[int]):
    """Add what PyTorch < 0.4 saved for InstanceNorm layers (the junyanz/examples files)."""
    state = dict(state)
    for prefix, channels in zip(norms, c, strict=True):
        state[f"{prefix}.running_mean"] = torch.zeros(channels)
        state[f"{prefix}.running_var"] = torch.ones(channels)
        state[f"{prefix}.num_batches_tracked"] = torch.tensor(0)
    return state


def run_import(tmp_path: Path, *args: str) -> Path:
    result = CliRunner().invoke(
        cli, ["import", *args, "--styles-dir", str(tmp_path / "styles")], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "max abs error" in result.output or "onnx:" in result.output
    name = args[args.index("--name") + 1]
    return tmp_path / "styles" / name


def check_served(bundle: Path, forward: Callable[[torch.Tensor], torch.Tensor]) -> None:
    style = load_bundle(bundle)
    assert style.model is not None
    spec = style.model
    rgb = probe_rgb(H, W, seed=3)
    batch = to_tensor(rgb, spec)  # exactly what the serving pipeline feeds the model
    engines = EngineCache()
    got = engines.get(spec.path).run(batch)
    with torch.no_grad():
        expected = forward(torch.from_numpy(batch)).numpy()
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected)) <= 1e-4 * SPAN[spec.range.value]
    # Tiling (declared for upscalers) is checked in tests/unit/pipeline/test_tiling.py;
    # here the whole image goes through at once, as PyTorch sees it.
    manifest = style.manifest.model_copy(update={"model": spec.model_copy(update={"tile": 0})})
    untiled = replace(style, manifest=manifest)
    served = build_pipeline(untiled, engines).run(rgb)
    assert served.shape == (H * spec.scale, W * spec.scale, 3)
    reference = from_tensor(expected, spec, rgb.shape)
    assert np.max(np.abs(served.astype(int) - reference.astype(int))) <= 1


@pytest.mark.parametrize("n_blocks", [9, 6])
@pytest.mark.parametrize("legacy", [False, True])
def test_cyclegan_resnet(tmp_path: Path, n_blocks: int, legacy: bool) -> None:
    cfg = resnet_generator.ResnetGeneratorConfig(ngf=4, n_blocks=n_blocks)
    model = randomise(resnet_generator.ResnetGenerator(cfg), seed=n_blocks)
    state = model.state_dict()
    if legacy:
        norms = ["model.2", "model.5", "model.8", "model.10.conv_block.2"]
        state = legacy_instance_norm_keys(state, norms, [4, 8, 16, 16])
    torch.save(state, tmp_path / "latest_net_G.pth")
    bundle = run_import(tmp_path, "cyclegan", str(tmp_path / "latest_net_G.pth"), "--name", "cg")
    assert load_bundle(bundle).model.size_multiple == 4  # type: ignore[union-attr]
    check_served(bundle, model)


def test_pix2pix_unet_256_batchnorm_matches_train_mode(tmp_path: Path) -> None:
    cfg = unet.UnetGeneratorConfig(ngf=2, num_downs=8, norm="batch", use_dropout=True)
    model = randomise(unet.UnetGenerator(cfg), seed=1)
    torch.save(model.state_dict(), tmp_path / "latest_net_G.pth")
    bundle = run_import(tmp_path, "auto", str(tmp_path / "latest_net_G.pth"), "--name", "p2p")
    assert load_bundle(bundle).model.size_multiple == 256  # type: ignore[union-attr]
    # The original test.py leaves the net in train mode: BatchNorm uses the image's own
    # statistics. Reproduce it with stock BatchNorm2d layers in train mode, dropout off.
    original = unet.UnetGenerator(unet.UnetGeneratorConfig(ngf=2, num_downs=8, use_dropout=False))
    for sub in list(original.modules()):
        for child_name, child in list(sub.named_children()):
            if isinstance(child, nn.BatchNorm2d):
                setattr(sub, child_name, nn.BatchNorm2d(child.num_features))
    original.load_state_dict(model.state_dict())
    original.train()
    check_served(bundle, original)


def test_pix2pix_eval_flag_uses_running_statistics(tmp_path: Path) -> None:
    cfg = unet.UnetGeneratorConfig(ngf=2, num_downs=7, norm="batch")
    model = randomise(unet.UnetGenerator(cfg), seed=2)
    torch.save(model.state_dict(), tmp_path / "g.pth")
    bundle = run_import(tmp_path, "pix2pix", str(tmp_path / "g.pth"), "--name", "p", "--eval")
    reference = unet.UnetGenerator(unet.UnetGeneratorConfig(ngf=2, num_downs=7, norm="batch"))
    reference.load_state_dict(model.state_dict())
    for module in reference.modules():
        if hasattr(module, "stats"):
            module.stats = "running"
    check_served(bundle, reference.eval())


def test_pix2pix_unet_128_instance_norm_legacy_keys(tmp_path: Path) -> None:
    cfg = unet.UnetGeneratorConfig(ngf=2, num_downs=7, norm="instance", use_dropout=False)
    model = randomise(unet.UnetGenerator(cfg), seed=3)
    norm = "model.model.1.model.2"  # the second level's down norm
    state = legacy_instance_norm_keys(model.state_dict(), [norm], [4])
    torch.save(state, tmp_path / "latest_net_G.pth")
    bundle = run_import(tmp_path, "pix2pix", str(tmp_path / "latest_net_G.pth"), "--name", "u")
    assert load_bundle(bundle).model.size_multiple == 128  # type: ignore[union-attr]
    check_served(bundle, model)


def test_fast_style_pth_with_stale_instance_norm_keys(tmp_path: Path) -> None:
    model = randomise(transformer_net.TransformerNet(transformer_net.TransformerNetConfig(4)), 4)
    state = legacy_instance_norm_keys(model.state_dict(), ["in1", "res1.in2", "in5"], [4, 16, 4])
    torch.save(state, tmp_path / "mosaic.pth")
    bundle = run_import(tmp_path, "fast-style", str(tmp_path / "mosaic.pth"), "--name", "mosaic")
    check_served(bundle, lambda x: model(x) * 1.0)


def test_fast_style_onnx_model_zoo_file(tmp_path: Path) -> None:
    model = randomise(transformer_net.TransformerNet(transformer_net.TransformerNetConfig(4)), 5)
    path = tmp_path / "mosaic-9.onnx"
    with torch.no_grad():  # like the zoo's file: input1/output1, fixed 1×3×224×224
        torch.onnx.export(
            model,
            (torch.rand(1, 3, 224, 224) * 255,),
            str(path),
            input_names=["input1"],
            output_names=["output1"],
            opset_version=11,
            dynamo=False,
        )
    bundle = run_import(tmp_path, "auto", str(path), "--name", "zoo")
    style = load_bundle(bundle)
    assert style.model is not None and style.model.range.value == "0..255"
    check_served(bundle, model)


@pytest.mark.parametrize("align", [False, True])
def test_animegan2(tmp_path: Path, align: bool) -> None:
    model = randomise(animegan2.Generator(animegan2.AnimeGAN2Config(align_corners=align)), 6)
    torch.save(model.state_dict(), tmp_path / "paprika.pt")
    flag = "--align-corners" if align else "--no-align-corners"
    bundle = run_import(tmp_path, "animegan2", str(tmp_path / "paprika.pt"), "--name", "a", flag)
    check_served(bundle, model)


@pytest.mark.parametrize(
    ("scale", "blocks", "key"), [(4, 2, "params_ema"), (2, 1, "params"), (4, 6, "params_ema")]
)
def test_realesrgan_rrdbnet(tmp_path: Path, scale: int, blocks: int, key: str) -> None:
    cfg = rrdbnet.RRDBNetConfig(scale=scale, num_feat=8, num_block=blocks, num_grow_ch=4)
    model = randomise(rrdbnet.RRDBNet(cfg), seed=scale + blocks)
    checkpoint = {key: model.state_dict()}
    if key == "params_ema":  # release files hold both; the EMA weights must win
        checkpoint["params"] = randomise(rrdbnet.RRDBNet(cfg), seed=99).state_dict()
    torch.save(checkpoint, tmp_path / "RealESRGAN.pth")
    bundle = run_import(tmp_path, "realesrgan", str(tmp_path / "RealESRGAN.pth"), "--name", "r")
    style = load_bundle(bundle)
    assert style.model is not None and style.model.scale == scale and style.model.tile == 256
    check_served(bundle, model)


def test_realesrgan_srvgg_compact(tmp_path: Path) -> None:
    cfg = srvgg.SRVGGConfig(num_feat=8, num_conv=4, upscale=4)
    model = randomise(srvgg.SRVGGNetCompact(cfg), seed=7)
    torch.save({"params": model.state_dict()}, tmp_path / "realesr-animevideov3.pth")
    path = str(tmp_path / "realesr-animevideov3.pth")
    bundle = run_import(tmp_path, "auto", path, "--name", "v3")
    check_served(bundle, model)


def test_onnx_with_declared_io(tmp_path: Path) -> None:
    from tests.unit.inference.tiny_models import channel_gains

    path = channel_gains(tmp_path / "gains.onnx", (0.5, 1.0, 1.5), layout="NHWC")
    bundle = run_import(
        tmp_path,
        "onnx",
        str(path),
        "--name",
        "gains",
        "--range",
        "0..1",
        "--layout",
        "NHWC",
        "--channels",
        "BGR",
    )
    style = load_bundle(bundle)
    rgb = probe_rgb(H, W)
    out = build_pipeline(style, EngineCache()).run(rgb)
    # BGR gains (0.5, 1, 1.5) are RGB gains (1.5, 1, 0.5).
    expected = np.clip(np.rint(rgb * np.array([1.5, 1.0, 0.5])), 0, 255)
    assert np.max(np.abs(out.astype(int) - expected.astype(int))) <= 1


def invoke(tmp_path: Path, *args: str):
    return CliRunner().invoke(cli, ["import", *args, "--styles-dir", str(tmp_path / "s")])


def _text_file(path: Path) -> None:
    path.write_text("not a checkpoint")


def _whole_pickled_model(path: Path) -> None:
    torch.save(srvgg.SRVGGNetCompact(srvgg.SRVGGConfig(num_feat=4, num_conv=1)), path)


def _truncated(path: Path) -> None:
    model = srvgg.SRVGGNetCompact(srvgg.SRVGGConfig(num_feat=4, num_conv=1))
    torch.save(model.state_dict(), path)
    path.write_bytes(path.read_bytes()[:300])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_text_file, "not a PyTorch checkpoint"),
        (_whole_pickled_model, "save model.state_dict() instead"),
        (_truncated, "not a PyTorch checkpoint"),
    ],
)
def test_wrong_file_is_a_clear_error(
    tmp_path: Path, make: Callable[[Path], None], message: str
) -> None:
    bogus = tmp_path / "bad.pth"
    make(bogus)
    result = invoke(tmp_path, "auto", str(bogus), "--name", "x")
    assert result.exit_code == 1
    assert message in result.output and "(invalid_checkpoint)" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "s" / "x").exists()


def test_wrong_architecture_names_the_missing_key(tmp_path: Path) -> None:
    model = transformer_net.TransformerNet(transformer_net.TransformerNetConfig(4))
    torch.save(model.state_dict(), tmp_path / "style.pth")
    result = invoke(tmp_path, "cyclegan", str(tmp_path / "style.pth"), "--name", "x")
    assert result.exit_code == 1
    assert "missing key 'model.1.weight'" in result.output
    assert "(checkpoint_mismatch)" in result.output


def test_mismatched_keys_are_listed(tmp_path: Path) -> None:
    model = resnet_generator.ResnetGenerator(resnet_generator.ResnetGeneratorConfig(ngf=4))
    state = model.state_dict()
    del state["model.10.conv_block.5.bias"]
    state["model.10.conv_block.9.weight"] = torch.zeros(1)
    state["model.1.bias"] = torch.zeros(5)
    torch.save(state, tmp_path / "g.pth")
    result = invoke(tmp_path, "cyclegan", str(tmp_path / "g.pth"), "--name", "x")
    assert result.exit_code == 1
    assert "missing keys: model.10.conv_block.5.bias" in result.output
    assert "unexpected keys: model.10.conv_block.9.weight" in result.output
    assert "model.1.bias (5,) (expected (4,))" in result.output
    assert "Traceback" not in result.output


def test_unrecognisable_keys_with_auto(tmp_path: Path) -> None:
    torch.save({"encoder.weight": torch.zeros(3)}, tmp_path / "x.pth")
    result = invoke(tmp_path, "auto", str(tmp_path / "x.pth"), "--name", "x")
    assert result.exit_code == 1
    assert "(unknown_architecture)" in result.output and "encoder.weight" in result.output


def test_existing_bundle_needs_force(tmp_path: Path) -> None:
    model = srvgg.SRVGGNetCompact(srvgg.SRVGGConfig(num_feat=4, num_conv=1, upscale=2))
    torch.save({"params": model.state_dict()}, tmp_path / "v.pth")
    assert invoke(tmp_path, "auto", str(tmp_path / "v.pth"), "--name", "v").exit_code == 0
    again = invoke(tmp_path, "auto", str(tmp_path / "v.pth"), "--name", "v")
    assert again.exit_code == 1 and "--force" in again.output
    forced = invoke(tmp_path, "auto", str(tmp_path / "v.pth"), "--name", "v", "--force")
    assert forced.exit_code == 0
    config = (tmp_path / "s" / "v" / "config.json").read_text()
    assert '"SRVGGNetCompact"' in config and '"upscale": 2' in config


def test_compact_student(tmp_path: Path) -> None:
    model = randomise(compact.CompactNet(compact.CompactConfig(scale=4, width=8, depth=2)), 8)
    torch.save(model.state_dict(), tmp_path / "latest_net_G.pth")
    bundle = run_import(tmp_path, "auto", str(tmp_path / "latest_net_G.pth"), "--name", "c")
    style = load_bundle(bundle)
    assert style.model is not None and style.model.size_multiple == 4
    assert style.model.tile == 256  # no normalisation: tiles give the same pixels
    check_served(bundle, model)
