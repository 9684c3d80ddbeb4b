"""Distillation: a small, fast student learns to do what a slow teacher style does.

The toonify site replaced a slow optimisation with a fast network trained on pairs the
slow method made; this is that, for any pixserve style. Pairs come from
``pixserve dataset pairs --teacher STYLE`` (A = photo, B = the teacher's output). The student
is :class:`~pixserve.models.compact.CompactNet` (most work at 1/4 resolution: the fast
one), a TransformerNet-style network or a compact CycleGAN-style ResNet generator, of the
width and depth asked for; the loss is L1, plus VGG16 perceptual and PatchGAN adversarial terms
when weighted. Crops are taken at the images' own scale by default, because a classical
style's strokes are sized relative to the whole image.

At the end the student is judged on the held-out pairs at full size: PSNR, SSIM and LPIPS
against the teacher, and both timed on the same images, written to ``eval.json``.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pixserve.core.errors import DatasetError, PixserveError
from pixserve.models.compact import CompactConfig, CompactNet
from pixserve.models.patchgan import NLayerDiscriminator, PatchGANConfig
from pixserve.models.resnet_generator import ResnetGenerator, ResnetGeneratorConfig
from pixserve.models.transformer_net import TransformerNet, TransformerNetConfig
from pixserve.models.vgg import find_vgg16, load_vgg16, taps
from pixserve.training import layout
from pixserve.training.data import Batch
from pixserve.training.distributed import Cluster, unwrap
from pixserve.training.init import init_weights
from pixserve.training.losses import gan_loss, train_discriminator
from pixserve.training.precision import Precision
from pixserve.training.prep.teacher import read_teacher_record
from pixserve.training.run import STUDENT_FAMILIES, RunConfig, RunFolder
from pixserve.training.trainer import (
    SampleGrid,
    TrainData,
    Trainer,
    paired_data,
    require_multiple,
    unit,
)

STUDENTS = tuple(STUDENT_FAMILIES)
PERCEPTUAL_TAPS = ("relu2_2", "relu3_3")


@dataclass
class StudentConfig:
    """The student network (``--student``, ``--width``, ``--depth``)."""

    arch: str = "compact"
    width: int = 32
    depth: int = 3
    #: compact only: the resolution its blocks work at is 1/scale.
    scale: int = 4


@dataclass
class DistillOptions:
    """Loss weights, the teacher's name (for timing) and the discriminator."""

    l1: float = 1.0
    perceptual: float = 0.0
    adversarial: float = 0.0
    ndf: int = 32
    #: The teacher style, timed against the student at the end; "" = from teacher.json.
    teacher: str = ""
    vgg: str = ""


def build_student(cfg: StudentConfig) -> nn.Module:
    """The student network (its checkpoint reads as the family in ``STUDENT_FAMILIES``)."""
    if cfg.arch == "compact":
        return CompactNet(CompactConfig(scale=cfg.scale, width=cfg.width, depth=cfg.depth))
    if cfg.arch == "transformer":
        return TransformerNet(TransformerNetConfig(width=cfg.width, n_residual=cfg.depth))
    if cfg.arch == "resnet":
        return init_weights(
            ResnetGenerator(ResnetGeneratorConfig(ngf=cfg.width, n_blocks=cfg.depth))
        )
    raise DatasetError(f"--student must be one of {', '.join(STUDENTS)}, not {cfg.arch!r}")


class DistillTrainer(Trainer):
    """Student: photo → the teacher's picture of it; all images −1..1 between steps."""

    arch = "distill"
    loss_names = ("L1", "perceptual", "G_GAN", "D")

    def __init__(self, config: RunConfig, cluster: Cluster, precision: Precision) -> None:
        super().__init__(config, cluster, precision)
        self.options = o = DistillOptions(**config.options)
        self.student_config = StudentConfig(**config.generator)
        require_multiple(config.data.size, max(4, self.student_config.scale))
        self.G = self.add_net("G", build_student(self.student_config))
        self.byte_range = self.student_config.arch == "transformer"
        self.optimizers = {"G": self.adam([self.G])}
        self.vgg = None
        if o.perceptual > 0:
            vgg = load_vgg16(find_vgg16(o.vgg or None), taps(PERCEPTUAL_TAPS))
            self.vgg = vgg.to(self.device)
        self.D: nn.Module | None = None
        if o.adversarial > 0:
            d = init_weights(NLayerDiscriminator(PatchGANConfig(6, o.ndf, 3, "instance")))
            self.D = self.add_net("D", d)
            self.optimizers["D"] = self.adam([self.D])

    def student(self, x: torch.Tensor, net: nn.Module | None = None) -> torch.Tensor:
        """The student's output for a −1..1 batch, in −1..1 (whatever its own convention)."""
        net = net if net is not None else self.G
        if self.byte_range:
            return net((x + 1) * 127.5) / 127.5 - 1  # TransformerNet works in 0..255
        return net(x)

    def data(self) -> TrainData:
        return paired_data(self.config)

    def train_step(self, batch: Batch) -> dict[str, float]:
        o = self.options
        photo, target = batch["A"], batch["B"]  # (N, 3, S, S) each, −1..1
        d_plain = unwrap(self.D) if self.D is not None else None
        self.optimizers["G"].zero_grad(set_to_none=True)
        with self.autocast():
            out = self.student(photo)
        out = out.float()
        l1 = F.l1_loss(out, target) * o.l1
        loss = l1
        perceptual = torch.zeros((), device=self.device)
        if self.vgg is not None:
            with self.autocast():
                fo, ft = self.vgg((out + 1) / 2), self.vgg((target + 1) / 2)
            perceptual = (
                sum(
                    (F.l1_loss(fo[k].float(), ft[k].float()) for k in PERCEPTUAL_TAPS),
                    torch.zeros((), device=self.device),
                )
                * o.perceptual
            )
            loss = loss + perceptual
        g_gan = torch.zeros((), device=self.device)
        if d_plain is not None:
            d_plain.requires_grad_(False)
            with self.autocast():
                g_gan = gan_loss(d_plain(torch.cat([photo, out], 1)), True, "lsgan")
            g_gan = g_gan * o.adversarial
            loss = loss + g_gan
        loss.backward()
        self.optimizers["G"].step()
        d_loss = torch.zeros(())
        if self.D is not None and d_plain is not None:
            d_plain.requires_grad_(True)
            real, fake = train_discriminator(
                self.D,
                self.optimizers["D"],
                torch.cat([photo, target], 1),
                torch.cat([photo, out], 1),
                "lsgan",
                self.autocast,
            )
            d_loss = (real + fake) * 0.5
        return {
            "L1": l1.item(),
            "perceptual": perceptual.item(),
            "G_GAN": g_gan.item(),
            "D": d_loss.item(),
        }

    def sample(self, batch: Batch) -> SampleGrid:
        out = self.student(batch["A"], self.nets["G"])
        return SampleGrid(
            ["photo", "student", "teacher"], [unit(batch["A"]), unit(out), unit(batch["B"])]
        )

    def evaluate(self, run: RunFolder, echo: Any) -> dict[str, Any] | None:
        """Judge the student on every held-out pair at full size; write ``eval.json``."""
        root = Path(self.config.data.path)
        pairs = layout.find_paired(root, "val", check=False)
        if not pairs:
            echo("no val split: the student is not judged on held-out images")
            return None
        report = judge(self, [layout.read_pair(p) for p in pairs], self.teacher_name(root), echo)
        (run.path / "eval.json").write_text(json.dumps(report, indent=2) + "\n")
        return report

    def teacher_name(self, root: Path) -> str:
        """The teacher style: ``--teacher``, or what ``dataset pairs`` recorded."""
        return self.options.teacher or read_teacher_record(root, root / "train")


def judge(
    trainer: DistillTrainer,
    pairs: list[tuple[np.ndarray, np.ndarray]],
    teacher: str,
    echo: Any,
) -> dict[str, Any]:
    """PSNR/SSIM/LPIPS of the student against the teacher's pictures, and both timed."""
    from pixserve.training.metrics import Lpips, psnr, ssim

    try:
        lpips: Lpips | None = Lpips.load()
    except PixserveError as exc:
        echo(f"LPIPS skipped: {exc.message}")
        lpips = None
    net = trainer.nets["G"].eval()
    rows, student_s = [], []
    for i, (photo, expected) in enumerate([pairs[0], *pairs]):  # the first run warms up
        x = torch.from_numpy(np.ascontiguousarray(photo)).permute(2, 0, 1)[None].float()
        x = x.to(trainer.device) / 127.5 - 1
        h, w = photo.shape[:2]
        m = max(4, trainer.student_config.scale)
        x = F.pad(x, (0, -w % m, 0, -h % m), mode="reflect")
        with torch.no_grad():
            started = time.perf_counter()
            out = trainer.student(x, net)[..., :h, :w]
            seconds = time.perf_counter() - started
        if i == 0:
            continue
        student_s.append(seconds)
        got = ((out[0].permute(1, 2, 0).cpu().numpy() + 1) * 127.5).clip(0, 255)
        got = np.rint(got).astype(np.uint8)
        row = {"psnr": psnr(got, expected), "ssim": ssim(got, expected)}
        if lpips is not None:
            row["lpips"] = lpips(got, expected)
        rows.append(row)
    report: dict[str, Any] = {
        "images": len(pairs),
        "sizes": sorted({f"{p.shape[1]}x{p.shape[0]}" for p, _ in pairs}),
        **{k: statistics.fmean(r[k] for r in rows) for k in rows[0]},
        "student_seconds": statistics.median(student_s),
        "student": asdict(trainer.student_config),
    }
    if teacher:
        report.update(_time_teacher(teacher, [p for p, _ in pairs]))
        report["speedup"] = report["teacher_seconds"] / report["student_seconds"]
    line = ", ".join(
        f"{k} {report[k]:.4g}" for k in ("psnr", "ssim", "lpips", "student_seconds") if k in report
    )
    echo(f"held-out ({len(pairs)} images, full size): {line}")
    if "teacher_seconds" in report:
        echo(
            f"teacher {teacher!r}: {report['teacher_seconds']:.3g} s per image, the student "
            f"(torch, {trainer.device}) is {report['speedup']:.2f}× as fast"
        )
    return report


def _time_teacher(style: str, photos: list[np.ndarray]) -> dict[str, Any]:
    from pixserve.core.settings import get_settings
    from pixserve.training.prep import style_teacher

    settings = get_settings()
    teach = style_teacher(
        style, style_dirs=settings.style_dirs, model_dir=settings.data_dir / "models"
    )
    seconds = []
    for photo in photos:
        started = time.perf_counter()
        teach(photo)
        seconds.append(time.perf_counter() - started)
    return {"teacher": style, "teacher_seconds": statistics.median(seconds)}
