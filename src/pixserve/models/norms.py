"""The normalisation layers of the junyanz generators, with their test-time behaviour pinned.

pix2pix and CycleGAN build their generators with ``--norm instance`` (``InstanceNorm2d``
without affine parameters or running statistics) or ``--norm batch`` (``BatchNorm2d``).
The repository's ``test.py`` never calls ``model.eval()`` unless ``--eval`` is given, so
a BatchNorm generator normalises each test image with its *own* statistics (train mode,
batch of one). :class:`PinnedBatchNorm2d` reproduces that deterministically and exports
it as an ONNX ``InstanceNormalization``; ``stats="running"`` gives the ``--eval`` result.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

NormKind = Literal["instance", "batch"]
BatchStats = Literal["image", "running"]


class PinnedBatchNorm2d(nn.BatchNorm2d):
    """``BatchNorm2d`` with the same keys, normalising by image or running statistics.

    ``stats="image"``: what a train-mode ``BatchNorm2d`` computes for a batch of one image
    (biased variance over H×W, then the affine weight and bias); running statistics are
    loaded but unused, exactly as in the original at test time. ``stats="running"``: the
    usual eval-mode layer. In train mode (``pixserve train``) it is a plain ``BatchNorm2d``:
    statistics over the whole batch, running statistics updated.
    """

    def __init__(self, channels: int, stats: BatchStats = "image") -> None:
        super().__init__(channels)
        self.stats = stats

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W)
        if self.training:
            return super().forward(x)
        if self.stats == "running":
            return F.batch_norm(
                x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps
            )
        return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)


def make_norm(kind: NormKind, channels: int, stats: BatchStats) -> nn.Module:
    """The norm layer ``--norm kind`` builds, with ``stats`` for BatchNorm."""
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    return PinnedBatchNorm2d(channels, stats)
