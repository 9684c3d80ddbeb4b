"""``pixserve import ugatit``: TensorFlow checkpoints written by TensorFlow, PyTorch params
files, and the errors for damaged ones.

The TF checkpoints under ``tests/fixtures/ugatit_tf`` were written by TensorFlow with the
official code's variable names and graph (the recipe is ``make_fixture.py`` beside them),
together with the TF graph's output on a fixed input; the imported ONNX style must give
that output within 1e-4 of the value range. PyTorch params files are compared with an
independent functional forward of the UGATIT-pytorch network written below.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from pixserve.cli.main import cli
from pixserve.core.errors import NoFaceFound
from pixserve.domain import Crop
from pixserve.inference import EngineCache, OnnxEngine
from pixserve.models import ugatit
from pixserve.models.tensorbundle import TensorBundle, checkpoint_prefix
from pixserve.pipeline import build_pipeline, load_bundle
from tests.unit.models.test_import import randomise

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ugatit_tf"
TOLERANCE = 1e-4 * 2  # of the −1..1 range


def run_import(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["import", "ugatit", *args, "--styles-dir", str(tmp_path / "styles")]
    )
    return result.exit_code, result.output


def onnx_output(bundle: Path, nhwc: np.ndarray) -> np.ndarray:
    nchw = np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2))
    return OnnxEngine(bundle / "model.onnx").run(nchw).transpose(0, 2, 3, 1)


# --- TensorFlow -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "smoothing", "expected"),
    [
        ("full", [], "expected-smoothing.npy"),
        ("full", ["--no-smoothing"], "expected-no-smoothing.npy"),
        ("light", ["--img-size", "32"], "expected-smoothing.npy"),
    ],
)
def test_tf_checkpoint_matches_tensorflow(
    tmp_path: Path, folder: str, smoothing: list[str], expected: str
) -> None:
    code, output = run_import(tmp_path, str(FIXTURES / folder), "--name", "anime", *smoothing)
    assert code == 0, output
    assert "from a tensorflow checkpoint, a2b" in output
    bundle = tmp_path / "styles" / "anime"
    style = load_bundle(bundle)
    assert style.model is not None and style.model.input_size == 32
    assert style.face is not None  # a face style: the face step runs when no crop is sent
    got = onnx_output(bundle, np.load(FIXTURES / folder / "input.npy"))
    assert np.max(np.abs(got - np.load(FIXTURES / folder / expected))) <= TOLERANCE


def test_tf_checkpoint_by_prefix_index_or_data_file(tmp_path: Path) -> None:
    folder = FIXTURES / "full"
    prefix = folder / "UGATIT.model-1000"
    for given in (folder, prefix, Path(f"{prefix}.index"), Path(f"{prefix}.data-00000-of-00001")):
        assert checkpoint_prefix(given) == prefix


def test_tf_b2a_is_generator_a(tmp_path: Path) -> None:
    a2b = ugatit.load_tensorflow(FIXTURES / "full", "a2b", smoothing=True)
    b2a = ugatit.load_tensorflow(FIXTURES / "full", "b2a", smoothing=True)
    bundle = TensorBundle.open(FIXTURES / "full")
    kernel = torch.from_numpy(bundle.read("generator_A/G_logit/conv2d/kernel"))
    assert torch.equal(b2a.UpBlock2[11].weight, kernel.permute(3, 2, 0, 1))
    assert not torch.equal(a2b.UpBlock2[11].weight, b2a.UpBlock2[11].weight)


def test_reader_checks_every_tensor_it_reads() -> None:
    bundle = TensorBundle.open(FIXTURES / "full")
    assert bundle.shape("generator_B/MLP/linear_0/dense/kernel") == (512, 8)
    assert "generator_B/conv/conv2d/kernel/Adam" in bundle.entries  # slots are there, unused
    for name in bundle.names():
        bundle.read(name)
    assert float(bundle.read("beta1_power")) == 0.5


@pytest.mark.parametrize(
    ("folder", "message"),
    [
        ("missing", "missing variables: generator_B/G_logit/conv2d/bias"),
        ("wrong-shape", "generator_B/MLP/gamma/dense/kernel (8, 9)"),
    ],
)
def test_tf_checkpoint_that_does_not_fit(tmp_path: Path, folder: str, message: str) -> None:
    code, output = run_import(tmp_path, str(FIXTURES / folder), "--name", "anime")
    assert code != 0
    assert "checkpoint_mismatch" in output and message in output
    assert "Traceback" not in output
    assert not (tmp_path / "styles").exists() or not any((tmp_path / "styles").iterdir())


def damaged_copy(tmp_path: Path, variable: str, *, truncate: bool) -> Path:
    folder = tmp_path / "ckpt"
    shutil.copytree(FIXTURES / "full", folder)
    entry = TensorBundle.open(folder).entries[variable]
    data = folder / "UGATIT.model-1000.data-00000-of-00001"
    raw = bytearray(data.read_bytes())
    if truncate:
        del raw[entry.offset + 4 :]
    else:
        raw[entry.offset + 5] ^= 0x40
    data.write_bytes(bytes(raw))
    return folder


def test_corrupt_data_names_the_variable(tmp_path: Path) -> None:
    variable = "generator_B/MLP/linear_0/dense/kernel"  # the streamed one
    folder = damaged_copy(tmp_path, variable, truncate=False)
    code, output = run_import(tmp_path, str(folder), "--name", "anime")
    assert code != 0
    assert "invalid_checkpoint" in output
    assert f"'{variable}' is corrupt: its CRC-32C does not match" in output
    assert not (tmp_path / "styles").exists() or not any((tmp_path / "styles").iterdir())


def test_truncated_data_names_a_variable(tmp_path: Path) -> None:
    folder = damaged_copy(tmp_path, "generator_B/MLP/linear_0/dense/kernel", truncate=True)
    code, output = run_import(tmp_path, str(folder), "--name", "anime")
    assert code != 0
    assert re.search(r"variable 'generator_B/[^']+': the data file is truncated", output)
    assert not (tmp_path / "styles").exists() or not any((tmp_path / "styles").iterdir())


def test_damaged_small_variable(tmp_path: Path) -> None:
    folder = damaged_copy(tmp_path, "generator_B/conv/conv2d/kernel", truncate=False)
    code, output = run_import(tmp_path, str(folder), "--name", "anime")
    assert code != 0 and "'generator_B/conv/conv2d/kernel' is corrupt" in output


def test_not_a_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "notes.index").write_bytes(b"hello" * 20)
    code, output = run_import(tmp_path, str(tmp_path / "notes.index"), "--name", "anime")
    assert code != 0 and "not a TensorFlow checkpoint index" in output
    code, output = run_import(tmp_path, str(tmp_path / "nowhere"), "--name", "anime")
    assert code != 0 and "no such file or folder" in output


# --- PyTorch port ---------------------------------------------------------------------


def reference_forward(state: dict[str, torch.Tensor], x: torch.Tensor, light: bool) -> torch.Tensor:
    """UGATIT-pytorch's ResnetGenerator.forward, written out functionally on the state dict."""

    def conv(x: torch.Tensor, key: str, pad: int, stride: int = 1) -> torch.Tensor:
        if pad:
            x = F.pad(x, (pad,) * 4, mode="reflect")
        return F.conv2d(x, state[f"{key}.weight"], state.get(f"{key}.bias"), stride)

    def iln(x: torch.Tensor, rho: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor):
        mean_in, var_in = x.mean((2, 3), keepdim=True), x.var((2, 3), keepdim=True)
        mean_ln, var_ln = x.mean((1, 2, 3), keepdim=True), x.var((1, 2, 3), keepdim=True)
        out_in = (x - mean_in) / torch.sqrt(var_in + 1e-5)
        out_ln = (x - mean_ln) / torch.sqrt(var_ln + 1e-5)
        return (rho * out_in + (1 - rho) * out_ln) * gamma + beta

    x = F.relu(F.instance_norm(conv(x, "DownBlock.1", 3)))
    x = F.relu(F.instance_norm(conv(x, "DownBlock.5", 1, 2)))
    x = F.relu(F.instance_norm(conv(x, "DownBlock.9", 1, 2)))
    blocks = len({k.split(".")[0] for k in state if k.startswith("UpBlock1_")})
    for i in range(blocks):
        key = f"DownBlock.{12 + i}.conv_block"
        y = F.relu(F.instance_norm(conv(x, f"{key}.1", 1)))
        x = x + F.instance_norm(conv(y, f"{key}.5", 1))
    gap = x * state["gap_fc.weight"][..., None, None]
    gmp = x * state["gmp_fc.weight"][..., None, None]
    x = F.relu(F.conv2d(torch.cat([gap, gmp], 1), state["conv1x1.weight"], state["conv1x1.bias"]))
    h = x.mean((2, 3)) if light else x.reshape(1, -1)
    h = F.relu(F.linear(F.relu(F.linear(h, state["FC.0.weight"])), state["FC.2.weight"]))
    gamma = F.linear(h, state["gamma.weight"])[..., None, None]
    beta = F.linear(h, state["beta.weight"])[..., None, None]
    for i in range(1, blocks + 1):
        block = f"UpBlock1_{i}"
        y = F.relu(iln(conv(x, f"{block}.conv1", 1), state[f"{block}.norm1.rho"], gamma, beta))
        x = x + iln(conv(y, f"{block}.conv2", 1), state[f"{block}.norm2.rho"], gamma, beta)
    for conv_i, norm_i in ((2, 3), (7, 8)):
        x = conv(F.interpolate(x, scale_factor=2, mode="nearest"), f"UpBlock2.{conv_i}", 1)
        norm = [state[f"UpBlock2.{norm_i}.{p}"] for p in ("rho", "gamma", "beta")]
        x = F.relu(iln(x, *norm))
    return torch.tanh(conv(x, "UpBlock2.11", 3))


@pytest.mark.parametrize("light", [False, True])
def test_pytorch_params_file_matches_the_port(tmp_path: Path, light: bool) -> None:
    cfg = ugatit.UgatitConfig(ngf=2, n_blocks=3, img_size=32, light=light)
    a2b = randomise(ugatit.UgatitGenerator(cfg), seed=1).state_dict()
    b2a = randomise(ugatit.UgatitGenerator(cfg), seed=2).state_dict()
    with torch.no_grad():
        for state in (a2b, b2a):  # rho lives in 0..1 (the port's RhoClipper)
            for key in state:
                if key.endswith("rho"):
                    state[key].uniform_(0, 1)
    params = tmp_path / "selfie2anime_params_0001000.pt"
    torch.save({"genA2B": a2b, "genB2A": b2a, "disGA": {"x": torch.zeros(1)}}, params)
    size = [] if not light else ["--img-size", "32"]
    code, output = run_import(tmp_path, str(params), "--name", "anime", "--direction", "b2a", *size)
    assert code == 0, output
    assert "from a pytorch checkpoint, b2a" in output
    x = np.random.default_rng(0).uniform(-1, 1, (1, 32, 32, 3)).astype(np.float32)
    got = onnx_output(tmp_path / "styles" / "anime", x)
    with torch.no_grad():
        want = reference_forward(b2a, torch.from_numpy(x).permute(0, 3, 1, 2), light)
    assert np.max(np.abs(got - want.permute(0, 2, 3, 1).numpy())) <= TOLERANCE


def test_pytorch_params_without_the_generator(tmp_path: Path) -> None:
    torch.save({"disGA": {"x": torch.zeros(1)}}, tmp_path / "x_params_1.pt")
    code, output = run_import(tmp_path, str(tmp_path / "x_params_1.pt"), "--name", "anime")
    assert code != 0 and "no 'genA2B'" in output


def test_full_model_refuses_another_size(tmp_path: Path) -> None:
    code, output = run_import(tmp_path, str(FIXTURES / "full"), "--name", "a", "--img-size", "64")
    assert code != 0 and "takes 32² images only" in output


# --- served as a face style -----------------------------------------------------------


def test_served_with_a_crop_or_a_face(tmp_path: Path) -> None:
    code, output = run_import(tmp_path, str(FIXTURES / "full"), "--name", "anime")
    assert code == 0, output
    style = load_bundle(tmp_path / "styles" / "anime")
    pipeline = build_pipeline(style, EngineCache())
    photo = np.random.default_rng(1).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    # A crop sent by the page: the model runs on it at 32², the result has the crop's size.
    assert pipeline.run(photo, crop=Crop(10, 10, 60, 50)).shape == (50, 60, 3)
    with pytest.raises(NoFaceFound):  # no crop, no face in noise
        pipeline.run(photo)


def test_smoothing_follows_the_folder_name(tmp_path: Path) -> None:
    trained = "UGATIT_selfie2anime_lsgan_4resblock_6dis_1_1_10_10_1000_sn"
    for name, smoothing in ((trained + "_smoothing", True), (trained, False), ("mine", True)):
        folder = tmp_path / name
        shutil.copytree(FIXTURES / "full", folder)
        assert ugatit.smoothing_of(folder) is smoothing
        model = ugatit.load(folder, direction="a2b")
        assert model.config.rho_offset == (0.1 if smoothing else 0.0)
    # Said on the command line, it wins.
    code, output = run_import(tmp_path, str(tmp_path / trained), "--name", "a", "--smoothing")
    assert code == 0 and "AdaLIN smoothing on" in output
