"""``CompactNet``: a small, fast image-to-image network for distilled students.

Space-to-depth, residual 3×3 convolution blocks at 1/``scale`` resolution, depth-to-space,
plus the input: almost all the arithmetic happens on 1/scale² of the pixels, in wide enough
layers to run at a CPU's matrix-multiply rate, and the network only learns the change the
teacher makes. Pixel unshuffle/shuffle as in Shi et al., "Real-Time Single Image and Video
Super-Resolution Using an Efficient Sub-Pixel Convolutional Neural Network", CVPR 2016
(arXiv:1609.05158). No normalisation layers, so its receptive field is bounded and tiles
give the same pixels as the whole image.

pixserve's own architecture (``pixserve train distill --student compact``); its checkpoint
keys are ``inp.*``, ``blocks.<i>.{0,2}.*``, ``out.*``. Input and output RGB in −1..1, sizes a
multiple of ``scale``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from pixserve.models.checkpoint import StateDict, count_indexed, load_strict, require, shape_error


@dataclass
class CompactConfig:
    """``scale``: the resolution divisor; ``width``: channels; ``depth``: residual blocks."""

    scale: int = 4
    width: int = 32
    depth: int = 3


class CompactNet(nn.Module):
    """unshuffle(scale) → conv → depth × (conv, LeakyReLU, conv, +) → conv → shuffle, + input."""

    def __init__(self, cfg: CompactConfig) -> None:
        super().__init__()
        self.config = cfg
        s2, c = 3 * cfg.scale**2, cfg.width
        self.inp = nn.Conv2d(s2, c, 3, padding=1)
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(c, c, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(c, c, 3, padding=1)
            )
            for _ in range(cfg.depth)
        )
        self.out = nn.Conv2d(c, s2, 3, padding=1)
        nn.init.zeros_(self.out.weight)  # starts as the identity: the photo itself
        nn.init.zeros_(self.out.bias)  # type: ignore[arg-type]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W), H, W % scale == 0
        h = F.leaky_relu(self.inp(F.pixel_unshuffle(x, self.config.scale)), 0.2)  # (N, c, H/s, W/s)
        for block in self.blocks:
            h = h + block(h)
        return x + F.pixel_shuffle(self.out(h), self.config.scale)  # (N, 3, H, W)


def config_from_state_dict(state: StateDict) -> CompactConfig:
    """Scale from the first layer's input channels (3·scale²), width and depth from keys."""
    what = "CompactNet"
    first = require(state, "inp.weight", what=what)  # (width, 3·scale², 3, 3)
    scale = round((int(first.shape[1]) / 3) ** 0.5)
    if first.ndim != 4 or 3 * scale**2 != first.shape[1]:
        raise shape_error(what, "inp.weight", first, "(width, 3·scale², 3, 3)")
    return CompactConfig(
        scale=scale, width=int(first.shape[0]), depth=count_indexed(state, "blocks.")
    )


def load(state: StateDict) -> CompactNet:
    """A :class:`CompactNet` (eval mode) holding ``state``."""
    model = CompactNet(config_from_state_dict(state))
    load_strict(model, state, what="CompactNet")
    return model.eval()
