"""CycleGAN's ``ResnetGenerator`` (``resnet_9blocks``, ``resnet_6blocks``).

Zhu, Park, Isola, Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent
Adversarial Networks", ICCV 2017 (arXiv:1703.10593); generator after Johnson et al. 2016.

Loads ``latest_net_G.pth`` / ``latest_net_G_A.pth`` files saved by
junyanz/pytorch-CycleGAN-and-pix2pix (a plain state dict, keys ``model.<i>.…`` of one
``nn.Sequential``), including files from PyTorch < 0.4 whose InstanceNorm layers carry
stale ``running_mean``/``running_var``/``num_batches_tracked`` keys. Input and output are
RGB in −1..1; two stride-2 convolutions mean sizes are padded to a multiple of 4.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from pixserve.models.checkpoint import (
    StateDict,
    count_indexed,
    drop_stale_norm_keys,
    load_strict,
    require,
    shape_error,
)
from pixserve.models.norms import BatchStats, NormKind, make_norm

FIRST_BLOCK = 10  # index of the first ResnetBlock in ``model`` (after stem and 2 downs)


@dataclass
class ResnetGeneratorConfig:
    """What ``--netG resnet_<n>blocks --norm … [--no_dropout]`` built."""

    input_nc: int = 3
    output_nc: int = 3
    ngf: int = 64
    n_blocks: int = 9
    norm: NormKind = "instance"
    use_dropout: bool = False
    batch_stats: BatchStats = "image"


class ResnetBlock(nn.Module):
    """Two reflect-padded 3×3 convolutions with a skip connection (``conv_block.<i>``)."""

    def __init__(self, dim: int, cfg: ResnetGeneratorConfig) -> None:
        super().__init__()
        bias = cfg.norm == "instance"
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3, bias=bias),
            make_norm(cfg.norm, dim, cfg.batch_stats),
            nn.ReLU(True),
        ]
        if cfg.use_dropout:
            layers.append(nn.Dropout(0.5))  # identity at test time: deterministic output
        layers += [
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3, bias=bias),
            make_norm(cfg.norm, dim, cfg.batch_stats),
        ]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 4·ngf, H/4, W/4)
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """c7s1-64, d128, d256, n×R256, u128, u64, c7s1-3, tanh."""

    def __init__(self, cfg: ResnetGeneratorConfig) -> None:
        super().__init__()
        self.config = cfg
        ngf, bias = cfg.ngf, cfg.norm == "instance"
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(cfg.input_nc, ngf, 7, bias=bias),
            make_norm(cfg.norm, ngf, cfg.batch_stats),
            nn.ReLU(True),
        ]
        for i in range(2):  # downsampling: (N, ngf·2^i, …) → (N, ngf·2^(i+1), H/2^(i+1), …)
            c = ngf * 2**i
            layers += [
                nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=bias),
                make_norm(cfg.norm, 2 * c, cfg.batch_stats),
                nn.ReLU(True),
            ]
        layers += [ResnetBlock(4 * ngf, cfg) for _ in range(cfg.n_blocks)]
        for i in range(2):  # upsampling back to (N, ngf, H, W)
            c = ngf * 2 ** (2 - i)
            layers += [
                nn.ConvTranspose2d(c, c // 2, 3, 2, padding=1, output_padding=1, bias=bias),
                make_norm(cfg.norm, c // 2, cfg.batch_stats),
                nn.ReLU(True),
            ]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, cfg.output_nc, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W), H, W multiples of 4
        return self.model(x)  # (N, 3, H, W) in −1..1


def config_from_state_dict(
    state: StateDict, *, batch_stats: BatchStats = "image"
) -> ResnetGeneratorConfig:
    """Read channels, block count, norm and dropout from a junyanz state dict's keys."""
    what = "CycleGAN ResnetGenerator"
    stem = require(state, "model.1.weight", what=what)  # (ngf, input_nc, 7, 7)
    if stem.ndim != 4 or stem.shape[-1] != 7:
        raise shape_error(what, "model.1.weight", stem, "(ngf, in, 7, 7)")
    n_blocks = count_indexed(state, "model.") - FIRST_BLOCK - 8
    if n_blocks < 1:
        require(state, f"model.{FIRST_BLOCK}.conv_block.1.weight", what=what)
    last = f"model.{FIRST_BLOCK + n_blocks + 7}.weight"
    out = require(state, last, what=what)  # (output_nc, ngf, 7, 7)
    norm: NormKind = "batch" if "model.2.weight" in state else "instance"
    return ResnetGeneratorConfig(
        input_nc=int(stem.shape[1]),
        output_nc=int(out.shape[0]),
        ngf=int(stem.shape[0]),
        n_blocks=n_blocks,
        norm=norm,
        use_dropout=f"model.{FIRST_BLOCK}.conv_block.6.weight" in state,
        batch_stats=batch_stats,
    )


def load(state: StateDict, *, batch_stats: BatchStats = "image") -> ResnetGenerator:
    """A :class:`ResnetGenerator` (eval mode) holding ``state``, legacy keys dropped."""
    model = ResnetGenerator(config_from_state_dict(state, batch_stats=batch_stats))
    load_strict(model, drop_stale_norm_keys(state, model), what="CycleGAN ResnetGenerator")
    return model.eval()
