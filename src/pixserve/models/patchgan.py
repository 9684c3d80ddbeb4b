"""pix2pix / CycleGAN's ``NLayerDiscriminator`` (the 70×70 PatchGAN with ``n_layers=3``).

Isola, Zhu, Zhou, Efros, "Image-to-Image Translation with Conditional Adversarial
Networks", CVPR 2017 (arXiv:1611.07004), section 3.2.2.

Same module layout as junyanz/pytorch-CycleGAN-and-pix2pix's ``networks.NLayerDiscriminator``
(one ``nn.Sequential`` called ``model``), so a run's ``latest_net_D.pth`` has that
repository's keys. It outputs one logit per overlapping patch, not one per image.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from pixserve.models.norms import NormKind, make_norm


@dataclass
class PatchGANConfig:
    """What ``--netD basic|n_layers --n_layers_D n --ndf … --norm …`` built."""

    input_nc: int = 3  # pix2pix: input_nc + output_nc, it judges the (A, B) pair
    ndf: int = 64
    n_layers: int = 3
    norm: NormKind = "instance"


class NLayerDiscriminator(nn.Module):
    """C64 (no norm) → C128 → C256 → C512 (stride 1) → 1 channel, 4×4 kernels."""

    def __init__(self, cfg: PatchGANConfig) -> None:
        super().__init__()
        self.config = cfg
        ndf, bias = cfg.ndf, cfg.norm == "instance"
        layers: list[nn.Module] = [
            nn.Conv2d(cfg.input_nc, ndf, 4, 2, 1),
            nn.LeakyReLU(0.2, True),
        ]
        mult = 1
        for n in range(1, cfg.n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < cfg.n_layers else 1  # the last of these keeps the size
            layers += [
                nn.Conv2d(ndf * prev, ndf * mult, 4, stride, 1, bias=bias),
                make_norm(cfg.norm, ndf * mult, "image"),
                nn.LeakyReLU(0.2, True),
            ]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, 1, 1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, input_nc, H, W)
        return self.model(x)  # (N, 1, ~H/2^(n_layers), ~W/2^(n_layers)) logits
