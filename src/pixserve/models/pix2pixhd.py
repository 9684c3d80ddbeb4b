"""pix2pixHD's generators: ``GlobalGenerator`` (``--netG global``) and ``LocalEnhancer``
(``--netG local``).

Wang, Liu, Zhu, Tao, Kautz, Catanzaro, "High-Resolution Image Synthesis and Semantic
Manipulation with Conditional GANs", CVPR 2018 (arXiv:1711.11585).

Loads the ``latest_net_G.pth`` files NVIDIA/pix2pixHD saves in ``checkpoints/<name>/``: a
plain state dict. A global generator is one ``nn.Sequential`` (keys ``model.<i>.…``); a
local enhancer is that generator built twice as wide per enhancer, without its last three
modules, plus ``model<n>_1.…`` and ``model<n>_2.…`` for each enhancer ``n``. Every
convolution has a bias. Files from PyTorch < 0.4 whose InstanceNorm layers carry stale
``running_mean``/``running_var`` keys load as they are.

Only image-to-image generators are accepted (``--label_nc 0 --no_instance``: 3 input
channels); label maps, instance edges and encoded features are not images a user uploads.

pix2pixHD's ``test.py`` never calls ``eval()``: the generator runs in train mode, so with
``--norm batch`` BatchNorm normalises each image by its own statistics. That is the default
here (:mod:`pixserve.models.norms`); ``batch_stats="running"`` uses the running statistics
instead. ``--norm instance`` (the default) behaves the same in both modes. Input and output
are RGB in −1..1; sizes must be multiples of 2^(n_downsample_global + n_local_enhancers)
(upstream resizes to one, the pipeline pads by reflection and crops back).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from pixserve.core.errors import CheckpointMismatch
from pixserve.models.checkpoint import (
    StateDict,
    drop_stale_norm_keys,
    load_strict,
    require,
    shape_error,
)
from pixserve.models.norms import BatchStats, NormKind, make_norm

Kind = Literal["global", "local"]
WHAT = "pix2pixHD generator"
FIRST_DOWN = 4  # index in ``model`` of the first stride-2 conv (after pad, conv, norm, ReLU)


@dataclass
class Pix2PixHDConfig:
    """What ``--netG global|local --ngf … --n_downsample_global … --norm …`` built.

    The defaults are upstream's flags; a global generator read from a file records
    ``n_local_enhancers`` and ``n_blocks_local`` as 0.
    """

    kind: Kind = "global"
    input_nc: int = 3
    output_nc: int = 3
    ngf: int = 64
    n_downsample_global: int = 4
    n_blocks_global: int = 9
    n_local_enhancers: int = 1
    n_blocks_local: int = 3
    norm: NormKind = "instance"
    batch_stats: BatchStats = "image"

    @property
    def size_multiple(self) -> int:
        """What height and width must be multiples of."""
        levels = self.n_downsample_global
        if self.kind == "local":
            levels += self.n_local_enhancers
        return int(2**levels)


class ResnetBlock(nn.Module):
    """Two reflect-padded 3×3 convolutions with a skip connection (``conv_block.<i>``)."""

    def __init__(self, dim: int, cfg: Pix2PixHDConfig) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3),
            make_norm(cfg.norm, dim, cfg.batch_stats),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3),
            make_norm(cfg.norm, dim, cfg.batch_stats),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, h, w)
        return x + self.conv_block(x)


def _down(c_in: int, c_out: int, cfg: Pix2PixHDConfig) -> list[nn.Module]:
    """3×3 stride-2 conv, norm, ReLU: (N, c_in, h, w) → (N, c_out, h/2, w/2)."""
    conv = nn.Conv2d(c_in, c_out, 3, stride=2, padding=1)
    return [conv, make_norm(cfg.norm, c_out, cfg.batch_stats), nn.ReLU(True)]


def _up(c_in: int, c_out: int, cfg: Pix2PixHDConfig) -> list[nn.Module]:
    """3×3 stride-2 transposed conv, norm, ReLU: (N, c_in, h, w) → (N, c_out, 2h, 2w)."""
    conv = nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)
    return [conv, make_norm(cfg.norm, c_out, cfg.batch_stats), nn.ReLU(True)]


def _stem(c_out: int, cfg: Pix2PixHDConfig) -> list[nn.Module]:
    """Reflect pad 3, 7×7 conv, norm, ReLU: (N, input_nc, h, w) → (N, c_out, h, w)."""
    conv = nn.Conv2d(cfg.input_nc, c_out, 7)
    return [nn.ReflectionPad2d(3), conv, make_norm(cfg.norm, c_out, cfg.batch_stats), nn.ReLU(True)]


def _head(c_in: int, cfg: Pix2PixHDConfig) -> list[nn.Module]:
    """Reflect pad 3, 7×7 conv, tanh: (N, c_in, h, w) → (N, output_nc, h, w) in −1..1."""
    return [nn.ReflectionPad2d(3), nn.Conv2d(c_in, cfg.output_nc, 7), nn.Tanh()]


def _global_body(ngf: int, cfg: Pix2PixHDConfig) -> list[nn.Module]:
    """The global generator of width ``ngf`` without its head, as upstream indexes it."""
    layers = _stem(ngf, cfg)
    for i in range(cfg.n_downsample_global):  # (N, ngf·2^i, …) → (N, ngf·2^(i+1), h/2, w/2)
        layers += _down(ngf * 2**i, ngf * 2 ** (i + 1), cfg)
    deepest = ngf * 2**cfg.n_downsample_global
    layers += [ResnetBlock(deepest, cfg) for _ in range(cfg.n_blocks_global)]
    for i in range(cfg.n_downsample_global, 0, -1):  # back up to (N, ngf, h, w)
        layers += _up(ngf * 2**i, ngf * 2 ** (i - 1), cfg)
    return layers


class GlobalGenerator(nn.Module):
    """c7s1-ngf, n_downsample × d, n_blocks × R, n_downsample × u, c7s1-3, tanh."""

    def __init__(self, cfg: Pix2PixHDConfig) -> None:
        super().__init__()
        self.config = cfg
        self.model = nn.Sequential(*_global_body(cfg.ngf, cfg), *_head(cfg.ngf, cfg))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W), multiples of 2^down
        return self.model(x)  # (N, 3, H, W) in −1..1


class LocalEnhancer(nn.Module):
    """A global generator on the input downsampled 2^n_local times, refined level by level.

    Enhancer ``n`` (1 = coarsest) runs at 1/2^(n_local−n) of the full size: ``model<n>_1``
    encodes that level's input to half its size, adds the coarser output, and
    ``model<n>_2`` (residual blocks, upsampling, and for the last one the head) doubles it.
    """

    def __init__(self, cfg: Pix2PixHDConfig) -> None:
        super().__init__()
        self.config = cfg
        n_local = cfg.n_local_enhancers
        self.model = nn.Sequential(*_global_body(cfg.ngf * 2**n_local, cfg))
        for n in range(1, n_local + 1):
            c = cfg.ngf * 2 ** (n_local - n)
            down = _stem(c, cfg) + _down(c, 2 * c, cfg)
            up: list[nn.Module] = [ResnetBlock(2 * c, cfg) for _ in range(cfg.n_blocks_local)]
            up += _up(2 * c, c, cfg)
            if n == n_local:
                up += _head(cfg.ngf, cfg)
            self.add_module(f"model{n}_1", nn.Sequential(*down))
            self.add_module(f"model{n}_2", nn.Sequential(*up))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W), multiples of 2^(d+L)
        n_local = self.config.n_local_enhancers
        pyramid = [x]  # pyramid[k]: (N, 3, H/2^k, W/2^k)
        for _ in range(n_local):
            pyramid.append(
                F.avg_pool2d(pyramid[-1], 3, stride=2, padding=1, count_include_pad=False)
            )
        out = self.model(pyramid[-1])  # (N, ngf·2^L, H/2^L, W/2^L)
        for n in range(1, n_local + 1):
            level = pyramid[n_local - n]  # (N, 3, H/2^(L−n), W/2^(L−n))
            encoded = self.get_submodule(f"model{n}_1")(level)  # (N, ngf·2^(L−n+1), half that)
            out = self.get_submodule(f"model{n}_2")(encoded + out)  # (N, ngf·2^(L−n), level's)
        return out  # (N, 3, H, W) in −1..1


def config_from_state_dict(
    state: StateDict, *, batch_stats: BatchStats = "image"
) -> Pix2PixHDConfig:
    """Read the generator kind, every width and count, and the norm from the tensors.

    Raises :class:`CheckpointMismatch` for a file that is not a pix2pixHD generator, and for
    one whose first convolution does not take 3 channels (a label-map generator).
    """
    stem = require(state, "model.1.weight", what=WHAT)  # (ngf_global, input_nc, 7, 7)
    if stem.ndim != 4 or stem.shape[-1] != 7:
        raise shape_error(WHAT, "model.1.weight", stem, "(ngf, in, 7, 7)")
    if stem.shape[1] != 3:
        raise CheckpointMismatch(
            f"this pix2pixHD generator takes {stem.shape[1]} input channels (label maps, "
            "instance edges or features); pixserve imports image-to-image generators with 3 "
            "input channels (trained with --label_nc 0 --no_instance)"
        )
    n_local = count_enhancers(state)
    n_down = count_downsampling(state)
    n_blocks = count_blocks(state, "model.", FIRST_DOWN + 3 * n_down)
    norm: NormKind = "batch" if "model.2.weight" in state else "instance"
    common = {"input_nc": 3, "n_downsample_global": n_down, "n_blocks_global": n_blocks}
    if n_local == 0:
        head_pad = FIRST_DOWN + 3 * n_down + n_blocks + 3 * n_down
        head = require(state, f"model.{head_pad + 1}.weight", what=WHAT)  # (output_nc, ngf, 7, 7)
        return Pix2PixHDConfig(
            kind="global",
            output_nc=int(head.shape[0]),
            ngf=int(stem.shape[0]),
            n_local_enhancers=0,
            n_blocks_local=0,
            norm=norm,
            batch_stats=batch_stats,
            **common,
        )
    finest = require(state, f"model{n_local}_1.1.weight", what=WHAT)  # (ngf, input_nc, 7, 7)
    n_blocks_local = count_blocks(state, f"model{n_local}_2.", 0)
    head_pad = n_blocks_local + 3  # after the blocks and the upsampling's conv, norm, ReLU
    head = require(state, f"model{n_local}_2.{head_pad + 1}.weight", what=WHAT)
    return Pix2PixHDConfig(
        kind="local",
        output_nc=int(head.shape[0]),  # head: (output_nc, ngf, 7, 7)
        ngf=int(finest.shape[0]),
        n_local_enhancers=n_local,
        n_blocks_local=n_blocks_local,
        norm=norm,
        batch_stats=batch_stats,
        **common,
    )


def count_blocks(state: StateDict, prefix: str, first: int) -> int:
    """How many residual blocks follow one another in ``prefix`` from index ``first``."""
    n = 0
    while f"{prefix}{first + n}.conv_block.1.weight" in state:
        n += 1
    return n


def count_enhancers(state: StateDict) -> int:
    """How many local enhancers (``model<n>_1.`` groups) the keys hold; 0 for ``global``."""
    n = 0
    while any(k.startswith(f"model{n + 1}_1.") for k in state):
        n += 1
    return n


def count_downsampling(state: StateDict) -> int:
    """The stride-2 convolutions between the stem and the first residual block.

    Each has shape (2c, c, 3, 3) with c the width so far; the first transposed convolution
    (c, c/2, 3, 3) has the same proportions but not the same input width, so a generator
    without residual blocks is read right too.
    """
    stem = state.get("model.1.weight")
    if stem is None or stem.ndim != 4:
        return 0
    c, n, i = int(stem.shape[0]), 0, FIRST_DOWN
    while (w := state.get(f"model.{i}.weight")) is not None and tuple(w.shape) == (2 * c, c, 3, 3):
        c, n, i = 2 * c, n + 1, i + 3
    return n


def recognises(state: StateDict) -> bool:
    """Whether ``state`` is a pix2pixHD generator that CycleGAN's ResnetGenerator is not.

    Both save ``model.1.weight`` first. A local enhancer has ``model1_1.`` keys; a global
    generator has other than two downsamplings, or biased convolutions before BatchNorm
    (CycleGAN's have none). A global generator with two downsamplings and instance norm *is*
    CycleGAN's network, key for key, so it is left to ``cyclegan``.
    """
    if any(k.startswith("model1_1.") for k in state):
        return True
    stem = state.get("model.1.weight")
    if stem is None or stem.ndim != 4 or stem.shape[-1] != 7:
        return False
    if "model.2.weight" in state and "model.1.bias" in state:
        return True
    return count_downsampling(state) != 2


def build(cfg: Pix2PixHDConfig) -> GlobalGenerator | LocalEnhancer:
    """The generator ``cfg`` describes, with fresh weights."""
    return GlobalGenerator(cfg) if cfg.kind == "global" else LocalEnhancer(cfg)


def load(state: StateDict, *, batch_stats: BatchStats = "image") -> GlobalGenerator | LocalEnhancer:
    """A generator (eval mode) holding ``state``, stale InstanceNorm keys dropped."""
    model = build(config_from_state_dict(state, batch_stats=batch_stats))
    load_strict(model, drop_stale_norm_keys(state, model), what=WHAT)
    return model.eval()
