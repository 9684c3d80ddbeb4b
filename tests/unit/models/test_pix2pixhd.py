"""Acceptance: pix2pixHD ``latest_net_G.pth`` files → ``pixserve import pix2pixhd`` → served.

The files are written here key by key in NVIDIA/pix2pixHD's layout (not by
``models/pix2pixhd.py``), and the reference output comes from a functional forward pass
over those tensors that follows upstream's ``GlobalGenerator``/``LocalEnhancer``, so a
mistake in the module's keys or its forward pass shows up as a failed import or a
different image.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from pixserve.cli.import_ import ARCHES
from pixserve.models import FAMILIES, guess_family, load_family
from pixserve.models import resnet_generator as resnet
from pixserve.models.norms import NormKind
from pixserve.pipeline import load_bundle
from tests.unit.models.test_import import (
    check_served,
    invoke,
    legacy_instance_norm_keys,
    randomise,
    run_import,
)

State = dict[str, torch.Tensor]
#: One module of an upstream ``nn.Sequential``: (what, channels in, channels out).
Op = tuple[str, int, int]


@dataclass(frozen=True)
class Net:
    """A pix2pixHD generator as its training flags describe it."""

    kind: str = "global"
    ngf: int = 4
    n_down: int = 3
    n_blocks: int = 2
    n_local: int = 1
    n_blocks_local: int = 1
    norm: NormKind = "instance"
    input_nc: int = 3

    @property
    def multiple(self) -> int:
        return 2 ** (self.n_down + (self.n_local if self.kind == "local" else 0))


def stem(c_in: int, c_out: int) -> list[Op]:
    return [("pad3", 0, 0), ("conv7", c_in, c_out), ("norm", c_out, c_out), ("relu", 0, 0)]


def down(c: int) -> list[Op]:
    return [("down", c, 2 * c), ("norm", 2 * c, 2 * c), ("relu", 0, 0)]


def up(c: int) -> list[Op]:
    return [("up", c, c // 2), ("norm", c // 2, c // 2), ("relu", 0, 0)]


def head(c: int) -> list[Op]:
    return [("pad3", 0, 0), ("conv7", c, 3), ("tanh", 0, 0)]


def global_ops(net: Net, ngf: int, *, with_head: bool) -> list[Op]:
    ops, c = stem(net.input_nc, ngf), ngf
    for _ in range(net.n_down):
        ops, c = ops + down(c), 2 * c
    ops += [("block", c, c)] * net.n_blocks
    for _ in range(net.n_down):
        ops, c = ops + up(c), c // 2
    return ops + head(c) if with_head else ops


def sequentials(net: Net) -> dict[str, list[Op]]:
    """Upstream's attribute names and their modules: ``model`` and ``model<n>_1``/``_2``."""
    if net.kind == "global":
        return {"model": global_ops(net, net.ngf, with_head=True)}
    seqs = {"model": global_ops(net, net.ngf * 2**net.n_local, with_head=False)}
    for n in range(1, net.n_local + 1):
        c = net.ngf * 2 ** (net.n_local - n)
        seqs[f"model{n}_1"] = stem(net.input_nc, c) + down(c)
        tail = head(net.ngf) if n == net.n_local else []
        seqs[f"model{n}_2"] = [("block", 2 * c, 2 * c)] * net.n_blocks_local + up(2 * c) + tail
    return seqs


def upstream_state(net: Net, seed: int) -> State:
    """Random weights under the keys pix2pixHD's ``save_network`` writes."""
    gen = torch.Generator().manual_seed(seed)

    def conv(prefix: str, c_in: int, c_out: int, k: int, state: State, *, t: bool = False) -> None:
        shape = (c_in, c_out, k, k) if t else (c_out, c_in, k, k)  # ConvTranspose2d: (in, out)
        state[f"{prefix}.weight"] = torch.randn(shape, generator=gen) / (c_in * k * k) ** 0.5
        state[f"{prefix}.bias"] = torch.randn(c_out, generator=gen) * 0.1

    def norm(prefix: str, c: int, state: State) -> None:
        if net.norm == "batch":
            state[f"{prefix}.weight"] = 1 + torch.randn(c, generator=gen) * 0.2
            state[f"{prefix}.bias"] = torch.randn(c, generator=gen) * 0.2
            state[f"{prefix}.running_mean"] = torch.randn(c, generator=gen) * 0.2
            state[f"{prefix}.running_var"] = torch.rand(c, generator=gen) + 0.5
            state[f"{prefix}.num_batches_tracked"] = torch.tensor(1000)

    state: State = {}
    for name, ops in sequentials(net).items():
        for i, (what, c_in, c_out) in enumerate(ops):
            p = f"{name}.{i}"
            if what in ("conv7", "down", "up"):
                conv(p, c_in, c_out, 7 if what == "conv7" else 3, state, t=what == "up")
            elif what == "norm":
                norm(p, c_out, state)
            elif what == "block":
                for j in (1, 5):
                    conv(f"{p}.conv_block.{j}", c_in, c_out, 3, state)
                    norm(f"{p}.conv_block.{j + 1}", c_in, state)
    return state


def reference(
    net: Net, state: State, *, running_stats: bool = False
) -> Callable[[torch.Tensor], torch.Tensor]:
    """Upstream's forward pass over ``state``, in functional form (train mode, as its
    ``test.py`` leaves the generator, unless ``running_stats``)."""

    def normalise(x: torch.Tensor, p: str) -> torch.Tensor:
        if net.norm == "instance":
            return F.instance_norm(x)
        if running_stats:
            mean, var = state[f"{p}.running_mean"], state[f"{p}.running_var"]
            return F.batch_norm(x, mean, var, state[f"{p}.weight"], state[f"{p}.bias"])
        return F.batch_norm(x, None, None, state[f"{p}.weight"], state[f"{p}.bias"], True)

    def conv(x: torch.Tensor, p: str, **kw: int) -> torch.Tensor:
        return F.conv2d(x, state[f"{p}.weight"], state[f"{p}.bias"], **kw)

    def block(x: torch.Tensor, p: str) -> torch.Tensor:
        y = conv(F.pad(x, (1, 1, 1, 1), mode="reflect"), f"{p}.conv_block.1")
        y = F.relu(normalise(y, f"{p}.conv_block.2"))
        y = conv(F.pad(y, (1, 1, 1, 1), mode="reflect"), f"{p}.conv_block.5")
        return x + normalise(y, f"{p}.conv_block.6")

    def run(name: str, x: torch.Tensor) -> torch.Tensor:
        for i, (what, _, _) in enumerate(sequentials(net)[name]):
            p = f"{name}.{i}"
            if what == "pad3":
                x = F.pad(x, (3, 3, 3, 3), mode="reflect")
            elif what == "conv7":
                x = conv(x, p)
            elif what == "down":
                x = conv(x, p, stride=2, padding=1)
            elif what == "up":
                w, b = state[f"{p}.weight"], state[f"{p}.bias"]
                x = F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1)
            elif what == "norm":
                x = normalise(x, p)
            elif what == "relu":
                x = F.relu(x)
            elif what == "block":
                x = block(x, p)
            elif what == "tanh":
                x = torch.tanh(x)
        return x

    def forward(x: torch.Tensor) -> torch.Tensor:
        if net.kind == "global":
            return run("model", x)
        pyramid = [x]
        for _ in range(net.n_local):
            pyramid.append(F.avg_pool2d(pyramid[-1], 3, 2, 1, count_include_pad=False))
        out = run("model", pyramid[-1])
        for n in range(1, net.n_local + 1):
            out = run(f"model{n}_2", run(f"model{n}_1", pyramid[net.n_local - n]) + out)
        return out

    return forward


def save(tmp_path: Path, state: State) -> str:
    path = tmp_path / "latest_net_G.pth"
    torch.save(state, path)
    return str(path)


def saved_config(bundle: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((bundle / "config.json").read_text())
    return data


@pytest.mark.parametrize(("n_down", "arch"), [(3, "auto"), (4, "pix2pixhd")])
def test_global_generator_instance_norm(tmp_path: Path, n_down: int, arch: str) -> None:
    net = Net(n_down=n_down, n_blocks=2)
    state = upstream_state(net, seed=n_down)
    bundle = run_import(tmp_path, arch, save(tmp_path, state), "--name", "hd")
    assert load_bundle(bundle).model.size_multiple == 2**n_down  # type: ignore[union-attr]
    config = saved_config(bundle)
    assert config["family"] == "pix2pixhd" and config["architecture"] == "GlobalGenerator"
    check_served(bundle, reference(net, state))


@pytest.mark.parametrize("running_stats", [False, True])
def test_global_generator_batch_norm(tmp_path: Path, running_stats: bool) -> None:
    net = Net(n_down=2, n_blocks=1, norm="batch")
    state = upstream_state(net, seed=5)
    flags = ["--eval"] if running_stats else []
    bundle = run_import(tmp_path, "pix2pixhd", save(tmp_path, state), "--name", "b", *flags)
    check_served(bundle, reference(net, state, running_stats=running_stats))


@pytest.mark.parametrize(
    "net",
    [
        Net(kind="local", ngf=2, n_down=4, n_blocks=1, n_local=1, n_blocks_local=2),
        Net(kind="local", ngf=2, n_down=2, n_blocks=1, n_local=2, n_blocks_local=1, norm="batch"),
    ],
    ids=["one-enhancer", "two-enhancers-batch-norm"],
)
def test_local_enhancer(tmp_path: Path, net: Net) -> None:
    state = upstream_state(net, seed=net.n_local)
    bundle = run_import(tmp_path, "auto", save(tmp_path, state), "--name", "local")
    assert load_bundle(bundle).model.size_multiple == net.multiple  # type: ignore[union-attr]
    config = saved_config(bundle)
    assert config["family"] == "pix2pixhd" and config["architecture"] == "LocalEnhancer"
    assert config["config"] == config["config"] | {  # type: ignore[operator]
        "kind": "local",
        "ngf": net.ngf,
        "n_downsample_global": net.n_down,
        "n_blocks_global": net.n_blocks,
        "n_local_enhancers": net.n_local,
        "n_blocks_local": net.n_blocks_local,
        "norm": net.norm,
    }
    check_served(bundle, reference(net, state))


def test_stale_instance_norm_keys_of_old_files(tmp_path: Path) -> None:
    net = Net(kind="local", ngf=2, n_down=3, n_blocks=1, n_local=1, n_blocks_local=1)
    state = upstream_state(net, seed=7)
    norms = ["model.2", "model.5", "model.13.conv_block.2", "model1_1.2", "model1_2.0.conv_block.6"]
    state = legacy_instance_norm_keys(state, norms, [4, 8, 32, 2, 4])
    bundle = run_import(tmp_path, "pix2pixhd", save(tmp_path, state), "--name", "old")
    check_served(bundle, reference(net, state))


@pytest.mark.parametrize("arch", ["pix2pixhd", "auto"])
def test_label_map_generator_is_refused(tmp_path: Path, arch: str) -> None:
    # label2city: 35 label channels + 1 instance-edge channel.
    net = Net(kind="local", ngf=2, n_down=2, n_blocks=1, input_nc=36)
    result = invoke(tmp_path, arch, save(tmp_path, upstream_state(net, seed=8)), "--name", "x")
    assert result.exit_code == 1
    assert "takes 36 input channels" in result.output
    assert "image-to-image generators with 3 input channels" in result.output
    assert "(checkpoint_mismatch)" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "s" / "x").exists()


@pytest.mark.parametrize(
    "net",
    [
        Net(n_down=3),
        Net(n_down=4, n_blocks=0),
        Net(n_down=1),
        Net(n_down=2, norm="batch"),  # CycleGAN's convolutions before BatchNorm have no bias
        Net(kind="local", ngf=2, n_down=2),
    ],
    ids=str,
)
def test_auto_tells_pix2pixhd_files(net: Net) -> None:
    state = upstream_state(net, seed=9)
    assert guess_family(state) == "pix2pixhd"
    loaded = load_family("pix2pixhd", state)
    x = torch.rand(1, 3, net.multiple * 3, net.multiple * 2) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(loaded.module(x), reference(net, state)(x), atol=1e-5)


@pytest.mark.parametrize("norm", ["instance", "batch"])
@pytest.mark.parametrize("use_dropout", [False, True])
def test_auto_keeps_cyclegan_files(norm: NormKind, use_dropout: bool) -> None:
    cfg = resnet.ResnetGeneratorConfig(ngf=4, n_blocks=3, norm=norm, use_dropout=use_dropout)
    state = randomise(resnet.ResnetGenerator(cfg), seed=10).state_dict()
    assert guess_family(state) == "cyclegan"


def test_two_downsamplings_and_instance_norm_is_cyclegans_network() -> None:
    # The one pix2pixHD global generator auto reads as cyclegan: the same network, key for key.
    net = Net(n_down=2, n_blocks=2)
    state = upstream_state(net, seed=11)
    assert guess_family(state) == "cyclegan"
    x = torch.rand(1, 3, 24, 20) * 2 - 1
    expected = reference(net, state)(x)
    with torch.no_grad():
        for family in ("cyclegan", "pix2pixhd"):
            assert torch.allclose(load_family(family, state).module(x), expected, atol=1e-5)


def test_import_offers_every_family() -> None:
    assert set(FAMILIES) <= set(ARCHES)
