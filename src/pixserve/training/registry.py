"""``TRAINERS``: every ``pixserve train ARCH``, its trainer, its configs and its defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pixserve.models.resnet_generator import ResnetGeneratorConfig
from pixserve.models.transformer_net import TransformerNetConfig
from pixserve.models.unet_generator import UnetGeneratorConfig
from pixserve.training.cyclegan import CycleGANOptions, CycleGANTrainer
from pixserve.training.distill import DistillOptions, DistillTrainer, StudentConfig
from pixserve.training.fast_style import FastStyleOptions, FastStyleTrainer
from pixserve.training.pix2pix import Pix2PixOptions, Pix2PixTrainer
from pixserve.training.trainer import Trainer


@dataclass(frozen=True)
class Architecture:
    """One trainable architecture: its trainer, config types and upstream defaults."""

    name: str
    trainer: type[Trainer]
    generator: type
    options: type
    #: ``LoopConfig``/``DataConfig`` values that differ from the generic defaults.
    loop_defaults: dict[str, Any] = field(default_factory=dict)
    data_defaults: dict[str, Any] = field(default_factory=dict)


TRAINERS: dict[str, Architecture] = {
    "pix2pix": Architecture(
        "pix2pix",
        Pix2PixTrainer,
        UnetGeneratorConfig,
        Pix2PixOptions,
        loop_defaults={"epochs": 200, "decay_epochs": 100, "lr": 2e-4, "batch_size": 1},
    ),
    "cyclegan": Architecture(
        "cyclegan",
        CycleGANTrainer,
        ResnetGeneratorConfig,
        CycleGANOptions,
        loop_defaults={"epochs": 200, "decay_epochs": 100, "lr": 2e-4, "batch_size": 1},
    ),
    "fast-style": Architecture(
        "fast-style",
        FastStyleTrainer,
        TransformerNetConfig,
        FastStyleOptions,
        loop_defaults={"epochs": 2, "decay_epochs": 0, "lr": 1e-3, "batch_size": 4},
        data_defaults={"load_size": 256, "flip": False, "resize": "shorter-side"},
    ),
    "distill": Architecture(
        "distill",
        DistillTrainer,
        StudentConfig,
        DistillOptions,
        loop_defaults={
            "epochs": 30,
            "decay_epochs": 15,
            "lr": 1e-3,
            "beta1": 0.9,
            "batch_size": 4,
        },
        data_defaults={"resize": "none", "load_size": 256},
    ),
}
