"""CycleGAN: two ResNet generators and two PatchGANs, trained with cycle consistency.

Zhu, Park, Isola, Efros, "Unpaired Image-to-Image Translation using Cycle-Consistent
Adversarial Networks", ICCV 2017 (arXiv:1703.10593). Defaults are
junyanz/pytorch-CycleGAN-and-pix2pix's (``--model cycle_gan``): ``resnet_9blocks``, instance
norm, LSGAN, λ_A = λ_B = 10, identity 0.5, image pools of 50, Adam(2e-4, β1 0.5), batch 1.
``G_A`` turns A into B (``latest_net_G_A.pth``), ``G_B`` turns B into A, with that
repository's keys, so ``pixserve import cyclegan`` reads either.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch.nn.functional as F

from pixserve.models.patchgan import NLayerDiscriminator, PatchGANConfig
from pixserve.models.resnet_generator import ResnetGenerator, ResnetGeneratorConfig
from pixserve.training import layout
from pixserve.training.data import Batch, UnalignedDataset, augment_for, fixed_batch
from pixserve.training.distributed import Cluster, unwrap
from pixserve.training.image_pool import ImagePool
from pixserve.training.init import init_weights
from pixserve.training.losses import gan_loss
from pixserve.training.precision import Precision
from pixserve.training.run import RunConfig
from pixserve.training.trainer import SampleGrid, TrainData, Trainer, require_multiple, unit


@dataclass
class CycleGANOptions:
    """Loss weights, pools and discriminators (``--lambda_A``, ``--pool_size``, …)."""

    ndf: int = 64
    n_layers_d: int = 3
    gan_mode: str = "lsgan"
    lambda_a: float = 10.0
    lambda_b: float = 10.0
    lambda_identity: float = 0.5
    pool_size: int = 50


class CycleGANTrainer(Trainer):
    """G_A: A → B, G_B: B → A; D_A judges B-domain images, D_B judges A-domain images."""

    arch = "cyclegan"
    loss_names = ("G_A", "G_B", "cycle_A", "cycle_B", "idt_A", "idt_B", "D_A", "D_B")

    def __init__(self, config: RunConfig, cluster: Cluster, precision: Precision) -> None:
        super().__init__(config, cluster, precision)
        self.options = o = CycleGANOptions(**config.options)
        gcfg = ResnetGeneratorConfig(**config.generator)
        require_multiple(config.data.size, 4)
        if o.lambda_identity > 0 and gcfg.input_nc != gcfg.output_nc:
            raise ValueError("the identity loss needs as many input as output channels")
        dcfg = PatchGANConfig(gcfg.output_nc, o.ndf, o.n_layers_d, gcfg.norm)
        self.G_A = self.add_net("G_A", init_weights(ResnetGenerator(gcfg)))
        self.G_B = self.add_net("G_B", init_weights(ResnetGenerator(gcfg)))
        self.D_A = self.add_net("D_A", init_weights(NLayerDiscriminator(dcfg)))
        self.D_B = self.add_net("D_B", init_weights(NLayerDiscriminator(dcfg)))
        self.optimizers = {
            "G": self.adam([self.G_A, self.G_B]),
            "D": self.adam([self.D_A, self.D_B]),
        }
        seed = config.loop.seed + 7919 * cluster.rank
        self.pool_a = ImagePool(o.pool_size, seed=seed)  # past fake A images, for D_B
        self.pool_b = ImagePool(o.pool_size, seed=seed + 1)  # past fake B images, for D_A

    def data(self) -> TrainData:
        cfg = self.config
        root = Path(cfg.data.path)
        train = layout.find_unaligned(root, "train")
        dataset = UnalignedDataset(
            train.a_files,
            train.b_files,
            layout.read_image,
            augment_for(cfg.data),
            seed=cfg.loop.seed,
            repeat=cfg.data.repeat,
        )
        val = layout.find_unaligned(root, "val")
        source, shown = ("val", val) if val.a_files and val.b_files else ("train", train)
        k = min(cfg.loop.samples, len(shown.a_files), len(shown.b_files))
        samples = {
            "A": fixed_batch(shown.a_files[:k], layout.read_image, cfg.data.size),
            "B": fixed_batch(shown.b_files[:k], layout.read_image, cfg.data.size),
        }
        return TrainData(dataset, samples, source)

    def train_step(self, batch: Batch) -> dict[str, float]:
        o = self.options
        real_a, real_b = batch["A"], batch["B"]  # (N, 3, S, S) each, −1..1
        d_a, d_b = unwrap(self.D_A), unwrap(self.D_B)

        # Generators: fool both discriminators, come back round the cycle, keep identities.
        self.set_requires_grad([d_a, d_b], False)
        self.optimizers["G"].zero_grad(set_to_none=True)
        with self.autocast():
            fake_b = self.G_A(real_a)  # A → B
            rec_a = self.G_B(fake_b)  # → A again
            fake_a = self.G_B(real_b)  # B → A
            rec_b = self.G_A(fake_a)  # → B again
            g_a = gan_loss(d_a(fake_b), True, o.gan_mode)
            g_b = gan_loss(d_b(fake_a), True, o.gan_mode)
            if o.lambda_identity > 0:
                idt_a = self.G_A(real_b)  # G_A should leave B images alone
                idt_b = self.G_B(real_a)
        cycle_a = F.l1_loss(rec_a.float(), real_a) * o.lambda_a
        cycle_b = F.l1_loss(rec_b.float(), real_b) * o.lambda_b
        loss = g_a + g_b + cycle_a + cycle_b
        idt = {"idt_A": 0.0, "idt_B": 0.0}
        if o.lambda_identity > 0:
            loss_idt_a = F.l1_loss(idt_a.float(), real_b) * o.lambda_b * o.lambda_identity
            loss_idt_b = F.l1_loss(idt_b.float(), real_a) * o.lambda_a * o.lambda_identity
            loss = loss + loss_idt_a + loss_idt_b
            idt = {"idt_A": loss_idt_a.item(), "idt_B": loss_idt_b.item()}
        loss.backward()
        self.optimizers["G"].step()

        # Discriminators: real → 1, fakes from the pools → 0.
        self.set_requires_grad([d_a, d_b], True)
        self.optimizers["D"].zero_grad(set_to_none=True)
        losses_d = []
        for net, real, fake in (
            (self.D_A, real_b, self.pool_b.query(fake_b)),
            (self.D_B, real_a, self.pool_a.query(fake_a)),
        ):
            with self.autocast():
                pred_real, pred_fake = net(real), net(fake.detach())
            loss_d = (
                gan_loss(pred_real, True, o.gan_mode) + gan_loss(pred_fake, False, o.gan_mode)
            ) * 0.5
            loss_d.backward()
            losses_d.append(loss_d.item())
        self.optimizers["D"].step()
        return {
            "G_A": g_a.item(),
            "G_B": g_b.item(),
            "cycle_A": cycle_a.item(),
            "cycle_B": cycle_b.item(),
            **idt,
            "D_A": losses_d[0],
            "D_B": losses_d[1],
        }

    def sample(self, batch: Batch) -> SampleGrid:
        g_a, g_b = self.nets["G_A"], self.nets["G_B"]
        fake_b, fake_a = g_a(batch["A"]), g_b(batch["B"])
        return SampleGrid(
            ["real A", "G_A: fake B", "G_B: back to A", "real B", "G_B: fake A", "G_A: back to B"],
            [
                unit(batch["A"]),
                unit(fake_b),
                unit(g_b(fake_b)),
                unit(batch["B"]),
                unit(fake_a),
                unit(g_a(fake_a)),
            ],
        )

    def extra_state(self) -> dict[str, Any]:
        return {"pool_a": self.pool_a.state_dict(), "pool_b": self.pool_b.state_dict()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.pool_a.load_state_dict(state["pool_a"], self.device)
        self.pool_b.load_state_dict(state["pool_b"], self.device)
