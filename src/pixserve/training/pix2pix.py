"""pix2pix: a U-Net generator and a PatchGAN judging (input, output) pairs, with L1.

Isola, Zhu, Zhou, Efros, "Image-to-Image Translation with Conditional Adversarial
Networks", CVPR 2017 (arXiv:1611.07004). Defaults are junyanz/pytorch-CycleGAN-and-pix2pix's
(``--model pix2pix``): ``unet_256``, batch norm, dropout, vanilla GAN loss, λ_L1 = 100,
Adam(2e-4, β1 0.5), batch 1, resize to 286 and crop 256, random flips. Checkpoints keep
that repository's keys, so ``pixserve import pix2pix`` reads them as it reads theirs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from pixserve.core.errors import DatasetError
from pixserve.models.patchgan import NLayerDiscriminator, PatchGANConfig
from pixserve.models.unet_generator import UnetGenerator, UnetGeneratorConfig
from pixserve.training.data import Batch
from pixserve.training.distributed import Cluster, unwrap
from pixserve.training.init import init_weights
from pixserve.training.losses import gan_loss, train_discriminator
from pixserve.training.precision import Precision
from pixserve.training.run import RunConfig
from pixserve.training.trainer import SampleGrid, TrainData, Trainer, paired_data, unit


@dataclass
class Pix2PixOptions:
    """The discriminator and loss settings (``--ndf``, ``--n_layers_D``, ``--gan_mode``, …)."""

    ndf: int = 64
    n_layers_d: int = 3
    gan_mode: str = "vanilla"
    lambda_l1: float = 100.0


class Pix2PixTrainer(Trainer):
    """G: A → B; D: (A, B) → real/fake per patch."""

    arch = "pix2pix"
    loss_names = ("G_GAN", "G_L1", "D_real", "D_fake")

    def __init__(self, config: RunConfig, cluster: Cluster, precision: Precision) -> None:
        super().__init__(config, cluster, precision)
        self.options = Pix2PixOptions(**config.options)
        gcfg = UnetGeneratorConfig(**config.generator)
        multiple = 2**gcfg.num_downs
        if config.data.size % multiple:
            raise DatasetError(
                f"a U-Net of {gcfg.num_downs} levels needs a --size that is a multiple of "
                f"{multiple}, not {config.data.size} (or choose --levels)"
            )
        dcfg = PatchGANConfig(
            input_nc=gcfg.input_nc + gcfg.output_nc,
            ndf=self.options.ndf,
            n_layers=self.options.n_layers_d,
            norm=gcfg.norm,
        )
        self.G = self.add_net("G", init_weights(UnetGenerator(gcfg)))
        self.D = self.add_net("D", init_weights(NLayerDiscriminator(dcfg)))
        self.optimizers = {"G": self.adam([self.G]), "D": self.adam([self.D])}

    def data(self) -> TrainData:
        return paired_data(self.config, swap=self.config.data.direction == "BtoA")

    def train_step(self, batch: Batch) -> dict[str, float]:
        real_a, real_b = batch["A"], batch["B"]  # (N, 3, S, S) each, −1..1
        d_plain = unwrap(self.D)
        with self.autocast():
            fake_b = self.G(real_a)  # (N, 3, S, S)

        # Discriminator: real pairs → 1, generated pairs → 0.
        self.set_requires_grad([d_plain], True)
        d_real, d_fake = train_discriminator(
            self.D,
            self.optimizers["D"],
            torch.cat([real_a, real_b], 1),
            torch.cat([real_a, fake_b], 1),
            self.options.gan_mode,
            self.autocast,
        )

        # Generator: fool D (through the plain module: D's weights are frozen here), plus L1.
        self.set_requires_grad([d_plain], False)
        self.optimizers["G"].zero_grad(set_to_none=True)
        with self.autocast():
            pred = d_plain(torch.cat([real_a, fake_b], 1))
        g_gan = gan_loss(pred, True, self.options.gan_mode)
        g_l1 = F.l1_loss(fake_b.float(), real_b) * self.options.lambda_l1
        (g_gan + g_l1).backward()
        self.optimizers["G"].step()
        return {
            "G_GAN": g_gan.item(),
            "G_L1": g_l1.item(),
            "D_real": d_real.item(),
            "D_fake": d_fake.item(),
        }

    def sample(self, batch: Batch) -> SampleGrid:
        fake = self.nets["G"](batch["A"])
        return SampleGrid(
            ["input", "output", "target"], [unit(batch["A"]), unit(fake), unit(batch["B"])]
        )
