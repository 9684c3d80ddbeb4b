"""Real-ESRGAN's ``RRDBNet`` (ESRGAN's generator, from BasicSR).

Wang, Xie, Dong, Shan, "Real-ESRGAN: Training Real-World Blind Super-Resolution with Pure
Synthetic Data", ICCVW 2021 (arXiv:2107.10833); RRDB from Wang et al., "ESRGAN", 2018.

Loads xinntao/Real-ESRGAN release files (``RealESRGAN_x4plus.pth`` — 23 blocks,
``RealESRGAN_x4plus_anime_6B.pth`` — 6 blocks, ``RealESRGAN_x2plus.pth``): a dict with
``params_ema`` (preferred, as Real-ESRGAN's own inference does) or ``params``. Scale, width
and depth are read from the keys: ``conv_first`` takes 3 channels at ×4, 12 at ×2 (the input
is pixel-unshuffled by 2 first, so sizes are padded to even) and 48 at ×1. Input and output
are RGB in 0..1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from pixserve.models.checkpoint import (
    StateDict,
    count_indexed,
    load_strict,
    require,
    shape_error,
)

WHAT = "Real-ESRGAN RRDBNet"


@dataclass
class RRDBNetConfig:
    """``RRDBNet(num_in_ch, num_out_ch, scale, num_feat, num_block, num_grow_ch)``."""

    num_in_ch: int = 3
    num_out_ch: int = 3
    scale: int = 4
    num_feat: int = 64
    num_block: int = 23
    num_grow_ch: int = 32


class ResidualDenseBlock(nn.Module):
    """Five densely connected 3×3 convolutions, residual scaled by 0.2."""

    def __init__(self, nf: int, gc: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(nf, gc, 3, 1, 1)
        self.conv2 = nn.Conv2d(nf + gc, gc, 3, 1, 1)
        self.conv3 = nn.Conv2d(nf + 2 * gc, gc, 3, 1, 1)
        self.conv4 = nn.Conv2d(nf + 3 * gc, gc, 3, 1, 1)
        self.conv5 = nn.Conv2d(nf + 4 * gc, nf, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, nf, h, w)
        x1 = self.lrelu(self.conv1(x))  # (N, gc, h, w)
        x2 = self.lrelu(self.conv2(torch.cat((x, x1), 1)))
        x3 = self.lrelu(self.conv3(torch.cat((x, x1, x2), 1)))
        x4 = self.lrelu(self.conv4(torch.cat((x, x1, x2, x3), 1)))
        x5 = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))  # (N, nf, h, w)
        return x5 * 0.2 + x


class RRDB(nn.Module):
    """Three residual dense blocks, residual scaled by 0.2."""

    def __init__(self, nf: int, gc: int) -> None:
        super().__init__()
        self.rdb1 = ResidualDenseBlock(nf, gc)
        self.rdb2 = ResidualDenseBlock(nf, gc)
        self.rdb3 = ResidualDenseBlock(nf, gc)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


class RRDBNet(nn.Module):
    """conv_first, RRDB trunk, two nearest ×2 upsampling convs, conv_hr, conv_last."""

    def __init__(self, cfg: RRDBNetConfig) -> None:
        super().__init__()
        self.config = cfg
        nf = cfg.num_feat
        unshuffled = cfg.num_in_ch * {4: 1, 2: 4, 1: 16}[cfg.scale]
        self.conv_first = nn.Conv2d(unshuffled, nf, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(nf, cfg.num_grow_ch) for _ in range(cfg.num_block)])
        self.conv_body = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_hr = nn.Conv2d(nf, nf, 3, 1, 1)
        self.conv_last = nn.Conv2d(nf, cfg.num_out_ch, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W) in 0..1
        if self.config.scale == 2:
            x = F.pixel_unshuffle(x, 2)  # (N, 12, H/2, W/2)
        elif self.config.scale == 1:
            x = F.pixel_unshuffle(x, 4)  # (N, 48, H/4, W/4)
        feat = self.conv_first(x)  # (N, nf, h, w) with h = 4H/scale/4
        feat = feat + self.conv_body(self.body(feat))
        feat = self.lrelu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")))
        feat = self.lrelu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")))
        return self.conv_last(self.lrelu(self.conv_hr(feat)))  # (N, 3, H·scale, W·scale)


def config_from_state_dict(state: StateDict) -> RRDBNetConfig:
    """Scale, width, growth and depth from the shapes and the ``body.<i>`` keys."""
    first = require(state, "conv_first.weight", what=WHAT)  # (nf, in·s², 3, 3)
    grow = require(state, "body.0.rdb1.conv1.weight", what=WHAT)  # (gc, nf, 3, 3)
    last = require(state, "conv_last.weight", what=WHAT)  # (out, nf, 3, 3)
    scales = {3: 4, 12: 2, 48: 1}
    if int(first.shape[1]) not in scales:
        raise shape_error(WHAT, "conv_first.weight", first, "(nf, 3|12|48, 3, 3)")
    return RRDBNetConfig(
        num_in_ch=3,
        num_out_ch=int(last.shape[0]),
        scale=scales[int(first.shape[1])],
        num_feat=int(first.shape[0]),
        num_block=count_indexed(state, "body."),
        num_grow_ch=int(grow.shape[0]),
    )


def load(state: StateDict) -> RRDBNet:
    """An :class:`RRDBNet` (eval mode) holding ``state``."""
    model = RRDBNet(config_from_state_dict(state))
    load_strict(model, state, what=WHAT)
    return model.eval()
