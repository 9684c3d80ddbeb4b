"""pix2pix's ``UnetGenerator`` (``unet_256``: 8 levels, ``unet_128``: 7 levels).

Isola, Zhu, Zhou, Efros, "Image-to-Image Translation with Conditional Adversarial
Networks", CVPR 2017 (arXiv:1611.07004); U-Net after Ronneberger et al. 2015.

Loads ``latest_net_G.pth`` files saved by junyanz/pytorch-CycleGAN-and-pix2pix: nested
``UnetSkipConnectionBlock``s, keys ``model.model.1.model.3.…``. pix2pix's defaults are
``--norm batch`` with dropout, and its ``test.py`` runs the generator in *train* mode:
BatchNorm normalises with the test image's own statistics and dropout samples a random
mask. Here BatchNorm does the former, deterministically (:mod:`pixserve.models.norms`), and
dropout is the identity, the mask's expectation (``batch_stats="running"`` reproduces
``test.py --eval``). Input and output are RGB in −1..1; sizes are padded to a multiple of
2^levels (256 for ``unet_256``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from pixserve.models.checkpoint import (
    StateDict,
    drop_stale_norm_keys,
    load_strict,
    require,
    shape_error,
)
from pixserve.models.norms import BatchStats, NormKind, make_norm


@dataclass
class UnetGeneratorConfig:
    """What ``--netG unet_256|unet_128 --norm … [--no_dropout]`` built."""

    input_nc: int = 3
    output_nc: int = 3
    ngf: int = 64
    num_downs: int = 8
    norm: NormKind = "batch"
    use_dropout: bool = True
    batch_stats: BatchStats = "image"


class UnetSkipConnectionBlock(nn.Module):
    """One level: down, the inner levels, up, and (except outermost) concat with the input."""

    def __init__(
        self,
        outer_nc: int,
        inner_nc: int,
        cfg: UnetGeneratorConfig,
        *,
        input_nc: int | None = None,
        submodule: nn.Module | None = None,
        outermost: bool = False,
        innermost: bool = False,
        use_dropout: bool = False,
    ) -> None:
        super().__init__()
        self.outermost = outermost
        bias = cfg.norm == "instance"
        down_conv = nn.Conv2d(input_nc or outer_nc, inner_nc, 4, 2, 1, bias=bias)
        layers: list[nn.Module]
        if outermost:
            assert submodule is not None
            up_conv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, 2, 1)
            layers = [down_conv, submodule, nn.ReLU(True), up_conv, nn.Tanh()]
        elif innermost:
            up_conv = nn.ConvTranspose2d(inner_nc, outer_nc, 4, 2, 1, bias=bias)
            up_norm = make_norm(cfg.norm, outer_nc, cfg.batch_stats)
            layers = [nn.LeakyReLU(0.2, True), down_conv, nn.ReLU(True), up_conv, up_norm]
        else:
            assert submodule is not None
            up_conv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, 2, 1, bias=bias)
            layers = [
                nn.LeakyReLU(0.2, True),
                down_conv,
                make_norm(cfg.norm, inner_nc, cfg.batch_stats),
                submodule,
                nn.ReLU(True),
                up_conv,
                make_norm(cfg.norm, outer_nc, cfg.batch_stats),
            ]
            if use_dropout:
                layers.append(nn.Dropout(0.5))  # identity at test time (see module docstring)
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, outer_nc, h, w)
        if self.outermost:
            return self.model(x)  # (N, output_nc, H, W)
        return torch.cat([x, self.model(x)], 1)  # (N, 2·outer_nc, h, w)


class UnetGenerator(nn.Module):
    """Built from the innermost level outwards, exactly like the original."""

    def __init__(self, cfg: UnetGeneratorConfig) -> None:
        super().__init__()
        self.config = cfg
        ngf = cfg.ngf
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, cfg, innermost=True)
        for _ in range(cfg.num_downs - 5):
            block = UnetSkipConnectionBlock(
                ngf * 8, ngf * 8, cfg, submodule=block, use_dropout=cfg.use_dropout
            )
        block = UnetSkipConnectionBlock(ngf * 4, ngf * 8, cfg, submodule=block)
        block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, cfg, submodule=block)
        block = UnetSkipConnectionBlock(ngf, ngf * 2, cfg, submodule=block)
        self.model = UnetSkipConnectionBlock(
            cfg.output_nc, ngf, cfg, input_nc=cfg.input_nc, submodule=block, outermost=True
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W), H, W multiples of 2^L
        return self.model(x)  # (N, 3, H, W) in −1..1


def levels_for_size(size: int) -> int:
    """pix2pix's usual depth for training at ``size``: 8 (``unet_256``) when ``size`` is a
    multiple of 256, else the deepest of 7…5 that divides it (5 if none does)."""
    levels = 8
    while levels > 5 and size % 2**levels:
        levels -= 1
    return levels


def config_from_state_dict(
    state: StateDict, *, batch_stats: BatchStats = "image", use_dropout: bool = True
) -> UnetGeneratorConfig:
    """Read channels, depth and norm from the nested keys (dropout has no keys: say it)."""
    what = "pix2pix UnetGenerator"
    first = require(state, "model.model.0.weight", what=what)  # (ngf, input_nc, 4, 4)
    if first.ndim != 4 or first.shape[-1] != 4:
        raise shape_error(what, "model.model.0.weight", first, "(ngf, in, 4, 4)")
    last = require(state, "model.model.3.weight", what=what)  # (2·ngf, output_nc, 4, 4)
    prefix, num_downs = "model.model.1.", 2
    require(state, prefix + "model.1.weight", what=what)
    while any(k.startswith(prefix + "model.3.model.") for k in state):
        prefix += "model.3."
        num_downs += 1
    if num_downs < 5:
        raise shape_error(
            what,
            prefix + "model.1.weight",
            state[prefix + "model.1.weight"],
            "a U-Net of at least 5 levels",
        )
    return UnetGeneratorConfig(
        input_nc=int(first.shape[1]),
        output_nc=int(last.shape[1]),
        ngf=int(first.shape[0]),
        num_downs=num_downs,
        norm="batch" if "model.model.1.model.2.weight" in state else "instance",
        use_dropout=use_dropout,
        batch_stats=batch_stats,
    )


def load(
    state: StateDict, *, batch_stats: BatchStats = "image", use_dropout: bool = True
) -> UnetGenerator:
    """A :class:`UnetGenerator` (eval mode) holding ``state``, legacy keys dropped."""
    cfg = config_from_state_dict(state, batch_stats=batch_stats, use_dropout=use_dropout)
    model = UnetGenerator(cfg)
    load_strict(model, drop_stale_norm_keys(state, model), what="pix2pix UnetGenerator")
    return model.eval()
