"""The adversarial losses of pix2pix and CycleGAN (``--gan_mode vanilla|lsgan``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

GAN_MODES = ("vanilla", "lsgan")


def gan_loss(logits: torch.Tensor, real: bool, mode: str) -> torch.Tensor:
    """How far the discriminator's patch ``logits`` are from saying "real" (or "fake").

    ``vanilla``: binary cross-entropy on logits (pix2pix's default); ``lsgan``: least
    squares (Mao et al. 2017, CycleGAN's default). Computed in fp32 whatever autocast did.
    """
    logits = logits.float()
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    if mode == "vanilla":
        return F.binary_cross_entropy_with_logits(logits, target)
    if mode == "lsgan":
        return F.mse_loss(logits, target)
    raise ValueError(f"gan mode must be one of {GAN_MODES}, not {mode!r}")
