"""AnimeGANv2's generator, as ported to PyTorch by bryandlee/animegan2-pytorch.

Chen, Liu, Chen, "AnimeGAN: A Novel Lightweight GAN for Photo Animation", ISICA 2019;
v2 by the same authors (TachibanaYoshino/AnimeGANv2), converted from TensorFlow.

Loads that repository's ``weights/*.pt`` (``paprika``, ``celeba_distill``,
``face_paint_512_v1``, ``face_paint_512_v2``): plain state dicts, keys
``block_a.0.1.weight`` …, ``out_layer.0.weight``. Input and output are RGB in −1..1.

The decoder's two bilinear upsamplings have two behaviours in the original ``forward``:
``align_corners=True`` resizes to the encoder's exact sizes (any input size; the default of
``forward`` and of ``hubconf.face2paint``), ``align_corners=False`` doubles (``test.py``'s
default, ``--upsample_align False``; sizes padded to a multiple of 4). The choice is part of
the config, saved with the weights, so a bundle always resizes the way it was verified.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from pixserve.models.checkpoint import StateDict, load_strict, require


@dataclass
class AnimeGAN2Config:
    """The published generator has no options but the decoder's resize behaviour."""

    align_corners: bool = False


class ConvNormLReLU(nn.Sequential):
    """Pad, conv (no padding), GroupNorm(1 group), LeakyReLU(0.2): keys ``<i>.1``, ``<i>.2``."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel: int = 3,
        stride: int = 1,
        padding: int | tuple[int, int, int, int] = 1,
        groups: int = 1,
        bias: bool = False,
    ) -> None:
        super().__init__(
            nn.ReflectionPad2d(padding),
            nn.Conv2d(c_in, c_out, kernel, stride, padding=0, groups=groups, bias=bias),
            nn.GroupNorm(num_groups=1, num_channels=c_out, affine=True),
            nn.LeakyReLU(0.2, inplace=True),
        )


class InvertedResBlock(nn.Module):
    """MobileNetV2 block: 1×1 expand, 3×3 depthwise, 1×1 project (+ skip when shapes match)."""

    def __init__(self, c_in: int, c_out: int, expansion: int = 2) -> None:
        super().__init__()
        self.use_res_connect = c_in == c_out
        mid = c_in * expansion
        self.layers = nn.Sequential(
            ConvNormLReLU(c_in, mid, kernel=1, padding=0),
            ConvNormLReLU(mid, mid, groups=mid, bias=True),
            nn.Conv2d(mid, c_out, 1, bias=False),
            nn.GroupNorm(num_groups=1, num_channels=c_out, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H/4, W/4)
        out = self.layers(x)
        return x + out if self.use_res_connect else out


class Generator(nn.Module):
    """Encoder to H/4, inverted residual blocks, bilinear decoder, 1×1 conv, tanh."""

    def __init__(self, cfg: AnimeGAN2Config) -> None:
        super().__init__()
        self.config = cfg
        self.block_a = nn.Sequential(
            ConvNormLReLU(3, 32, kernel=7, padding=3),
            ConvNormLReLU(32, 64, stride=2, padding=(0, 1, 0, 1)),
            ConvNormLReLU(64, 64),
        )
        self.block_b = nn.Sequential(
            ConvNormLReLU(64, 128, stride=2, padding=(0, 1, 0, 1)),
            ConvNormLReLU(128, 128),
        )
        self.block_c = nn.Sequential(
            ConvNormLReLU(128, 128),
            InvertedResBlock(128, 256),
            InvertedResBlock(256, 256),
            InvertedResBlock(256, 256),
            InvertedResBlock(256, 256),
            ConvNormLReLU(256, 128),
        )
        self.block_d = nn.Sequential(ConvNormLReLU(128, 128), ConvNormLReLU(128, 128))
        self.block_e = nn.Sequential(
            ConvNormLReLU(128, 64),
            ConvNormLReLU(64, 64),
            ConvNormLReLU(64, 32, kernel=7, padding=3),
        )
        self.out_layer = nn.Sequential(nn.Conv2d(32, 3, 1, bias=False), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W) in −1..1
        out = self.block_a(x)  # (N, 64, ~H/2, ~W/2)
        half_size = out.shape[-2:]
        out = self.block_c(self.block_b(out))  # (N, 128, ~H/4, ~W/4)
        out = self._up(out, half_size)  # (N, 128, ~H/2, ~W/2)
        out = self.block_d(out)
        out = self._up(out, x.shape[-2:])  # (N, 128, H, W)
        return self.out_layer(self.block_e(out))  # (N, 3, H, W) in −1..1

    def _up(self, x: torch.Tensor, size: torch.Size) -> torch.Tensor:
        if self.config.align_corners:
            return F.interpolate(x, size, mode="bilinear", align_corners=True)
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


def config_from_state_dict(state: StateDict, *, align_corners: bool = False) -> AnimeGAN2Config:
    """Check that the keys are AnimeGANv2's; the resize behaviour is the caller's choice."""
    require(state, "block_a.0.1.weight", what="AnimeGANv2 generator")
    require(state, "out_layer.0.weight", what="AnimeGANv2 generator")
    return AnimeGAN2Config(align_corners=align_corners)


def load(state: StateDict, *, align_corners: bool = False) -> Generator:
    """A :class:`Generator` (eval mode) holding ``state``."""
    model = Generator(config_from_state_dict(state, align_corners=align_corners))
    load_strict(model, state, what="AnimeGANv2 generator")
    return model.eval()
