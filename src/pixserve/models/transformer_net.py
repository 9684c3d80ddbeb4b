"""Fast neural style's ``TransformerNet`` (pytorch/examples ``fast_neural_style``).

Johnson, Alahi, Fei-Fei, "Perceptual Losses for Real-Time Style Transfer and
Super-Resolution", ECCV 2016 (arXiv:1603.08155), with Ulyanov et al.'s instance norm and
nearest-neighbour upsampling instead of transposed convolutions.

Loads the ``.pth`` state dicts saved by ``neural_style.py train`` and published as
``saved_models/{candy,mosaic,rain_princess,udnie}.pth`` — including their stale
``in<i>.running_mean``/``running_var`` keys from PyTorch < 0.4 InstanceNorm, which the
original's ``stylize`` deletes by regular expression. Input and output are RGB in 0..255
(the output is clamped by the caller); two stride-2 convolutions mean sizes are padded to a
multiple of 4. The ONNX model-zoo files (``mosaic-9.onnx`` …, input ``input1``) are this
network already exported: import them with ``pixserve import fast-style FILE.onnx``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from pixserve.models.checkpoint import StateDict, drop_stale_norm_keys, load_strict, require


@dataclass
class TransformerNetConfig:
    """The published network has no options; ``width`` (32) scales every layer for tests."""

    width: int = 32
    n_residual: int = 5


class ConvLayer(nn.Module):
    """Reflection pad by k//2, then a convolution (``conv2d``)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(kernel // 2)
        self.conv2d = nn.Conv2d(c_in, c_out, kernel, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2d(self.reflection_pad(x))


class UpsampleConvLayer(nn.Module):
    """Nearest-neighbour ×2, then :class:`ConvLayer` (avoids checkerboard artefacts)."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(kernel // 2)
        self.conv2d = nn.Conv2d(c_in, c_out, kernel, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, h, w)
        x = F.interpolate(x, scale_factor=2, mode="nearest")  # (N, C, 2h, 2w)
        return self.conv2d(self.reflection_pad(x))


class ResidualBlock(nn.Module):
    """conv-IN-ReLU-conv-IN plus the input."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3, 1)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, 3, 1)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 4w, H/4, W/4)
        out = self.relu(self.in1(self.conv1(x)))
        return x + self.in2(self.conv2(out))


class TransformerNet(nn.Module):
    """9×9 conv, two stride-2 convs, residual blocks, two upsampling convs, 9×9 conv."""

    def __init__(self, cfg: TransformerNetConfig) -> None:
        super().__init__()
        self.config = cfg
        w = cfg.width
        self.conv1 = ConvLayer(3, w, 9, 1)
        self.in1 = nn.InstanceNorm2d(w, affine=True)
        self.conv2 = ConvLayer(w, 2 * w, 3, 2)
        self.in2 = nn.InstanceNorm2d(2 * w, affine=True)
        self.conv3 = ConvLayer(2 * w, 4 * w, 3, 2)
        self.in3 = nn.InstanceNorm2d(4 * w, affine=True)
        for i in range(1, cfg.n_residual + 1):
            self.add_module(f"res{i}", ResidualBlock(4 * w))
        self.deconv1 = UpsampleConvLayer(4 * w, 2 * w, 3)
        self.in4 = nn.InstanceNorm2d(2 * w, affine=True)
        self.deconv2 = UpsampleConvLayer(2 * w, w, 3)
        self.in5 = nn.InstanceNorm2d(w, affine=True)
        self.deconv3 = ConvLayer(w, 3, 9, 1)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W) in 0..255, H, W % 4 == 0
        y = self.relu(self.in1(self.conv1(x)))  # (N, w, H, W)
        y = self.relu(self.in2(self.conv2(y)))  # (N, 2w, H/2, W/2)
        y = self.relu(self.in3(self.conv3(y)))  # (N, 4w, H/4, W/4)
        for i in range(1, self.config.n_residual + 1):
            y = getattr(self, f"res{i}")(y)
        y = self.relu(self.in4(self.deconv1(y)))  # (N, 2w, H/2, W/2)
        y = self.relu(self.in5(self.deconv2(y)))  # (N, w, H, W)
        return self.deconv3(y)  # (N, 3, H, W), roughly 0..255


def config_from_state_dict(state: StateDict) -> TransformerNetConfig:
    """Width from ``conv1``, residual count from the ``res<i>`` keys."""
    conv1 = require(state, "conv1.conv2d.weight", what="fast-neural-style TransformerNet")
    n_res = sum(1 for k in state if k.startswith("res") and k.endswith(".conv1.conv2d.weight"))
    return TransformerNetConfig(width=int(conv1.shape[0]), n_residual=n_res)


def load(state: StateDict) -> TransformerNet:
    """A :class:`TransformerNet` (eval mode) holding ``state``, stale norm keys dropped."""
    model = TransformerNet(config_from_state_dict(state))
    load_strict(model, drop_stale_norm_keys(state, model), what="fast-neural-style TransformerNet")
    return model.eval()
