"""The adversarial losses of pix2pix and CycleGAN (``--gan_mode vanilla|lsgan``), and a
discriminator's training step."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim import Optimizer

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


def train_discriminator(
    net: nn.Module,
    optimizer: Optimizer,
    real: torch.Tensor,
    fake: torch.Tensor,
    mode: str,
    autocast: Callable[[], AbstractContextManager[None]],
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of a discriminator: ``real`` → 1, ``fake`` (detached here) → 0, the mean of
    the two losses backpropagated. Returns (loss on real, loss on fake)."""
    optimizer.zero_grad(set_to_none=True)
    with autocast():
        pred_fake = net(fake.detach())  # (N, 1, P, P)
        pred_real = net(real)
    loss_fake = gan_loss(pred_fake, False, mode)
    loss_real = gan_loss(pred_real, True, mode)
    ((loss_fake + loss_real) * 0.5).backward()
    optimizer.step()
    return loss_real, loss_fake
