"""Real-ESRGAN's ``SRVGGNetCompact``: a plain conv stack, upsampled once at the end.

Wang et al., "Real-ESRGAN" (arXiv:2107.10833); the compact network of the
``realesr-animevideov3`` and ``realesr-general-x4v3`` releases.

Loads xinntao/Real-ESRGAN release files (``realesr-animevideov3.pth``,
``realesr-general-x4v3.pth``, ``realesr-general-wdn-x4v3.pth``): ``params`` (or
``params_ema``) with keys ``body.<i>.weight``; the convolutions are the even indices and
the PReLU slopes the odd ones. Width, depth and scale come from the shapes. Input and
output are RGB in 0..1; any size works.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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

WHAT = "Real-ESRGAN SRVGGNetCompact"
Activation = Literal["prelu", "relu", "leakyrelu"]


@dataclass
class SRVGGConfig:
    """``SRVGGNetCompact(num_in_ch, num_out_ch, num_feat, num_conv, upscale, act_type)``."""

    num_in_ch: int = 3
    num_out_ch: int = 3
    num_feat: int = 64
    num_conv: int = 16
    upscale: int = 4
    act_type: Activation = "prelu"


class SRVGGNetCompact(nn.Module):
    """conv, act, num_conv × (conv, act), conv to out·s² channels, pixel shuffle, + nearest."""

    def __init__(self, cfg: SRVGGConfig) -> None:
        super().__init__()
        self.config = cfg
        nf = cfg.num_feat
        self.body = nn.ModuleList([nn.Conv2d(cfg.num_in_ch, nf, 3, 1, 1), _act(cfg)])
        for _ in range(cfg.num_conv):
            self.body.extend([nn.Conv2d(nf, nf, 3, 1, 1), _act(cfg)])
        self.body.append(nn.Conv2d(nf, cfg.num_out_ch * cfg.upscale**2, 3, 1, 1))
        self.upsampler = nn.PixelShuffle(cfg.upscale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W) in 0..1
        out = x
        for layer in self.body:
            out = layer(out)  # (N, nf, H, W), last: (N, 3·s², H, W)
        out = self.upsampler(out)  # (N, 3, H·s, W·s)
        return out + F.interpolate(x, scale_factor=self.config.upscale, mode="nearest")


def _act(cfg: SRVGGConfig) -> nn.Module:
    if cfg.act_type == "prelu":
        return nn.PReLU(num_parameters=cfg.num_feat)
    if cfg.act_type == "relu":
        return nn.ReLU(inplace=True)
    return nn.LeakyReLU(negative_slope=0.1, inplace=True)


def config_from_state_dict(state: StateDict, *, act_type: Activation | None = None) -> SRVGGConfig:
    """Width, depth and scale from the shapes; PReLU when the slopes are in the file.

    ReLU and LeakyReLU variants have no activation keys, so their ``act_type`` must be given.
    """
    first = require(state, "body.0.weight", what=WHAT)  # (nf, 3, 3, 3)
    has_prelu = "body.1.weight" in state
    if act_type is None:
        if not has_prelu:
            raise shape_error(WHAT, "body.1.weight", first, "PReLU slopes (or give act_type)")
        act_type = "prelu"
    # body.<even> are convolutions, body.<odd> activations (keys only for PReLU), so the
    # last convolution of num_conv + 2 is body.<2·num_conv + 2>.
    last_index = count_indexed(state, "body.") - 1
    last = require(state, f"body.{last_index}.weight", what=WHAT)  # (3·s², nf, 3, 3)
    upscale = round((int(last.shape[0]) / 3) ** 0.5)
    if 3 * upscale**2 != int(last.shape[0]) or last_index % 2:
        raise shape_error(WHAT, f"body.{last_index}.weight", last, "(3·s², nf, 3, 3)")
    return SRVGGConfig(
        num_in_ch=int(first.shape[1]),
        num_out_ch=3,
        num_feat=int(first.shape[0]),
        num_conv=last_index // 2 - 1,
        upscale=upscale,
        act_type=act_type,
    )


def load(state: StateDict, *, act_type: Activation | None = None) -> SRVGGNetCompact:
    """An :class:`SRVGGNetCompact` (eval mode) holding ``state``."""
    model = SRVGGNetCompact(config_from_state_dict(state, act_type=act_type))
    load_strict(model, state, what=WHAT)
    return model.eval()
