"""The :class:`Trainer` contract: what an architecture gives the shared training loop.

A trainer owns its networks, optimisers, losses and data; the loop
(:mod:`pixserve.training.loop`) owns everything else: epochs, LR schedules, logging,
checkpoints, sample grids, resume, precision and devices. Adding an architecture is one
module with a ``Trainer`` subclass and one entry in ``training.registry.TRAINERS``; see
``docs/training.md``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn
from torch.optim import Optimizer
from torch.utils.data import default_collate

from pixserve.core.errors import DatasetError
from pixserve.training import layout
from pixserve.training.data import Batch, PairedDataset, _EpochDataset, augment_for
from pixserve.training.distributed import Cluster
from pixserve.training.precision import Precision, autocast
from pixserve.training.run import RunConfig, RunFolder


@dataclass
class TrainData:
    """The training set, and a fixed batch of (validation) images for the sample grids."""

    train: _EpochDataset[Any]
    samples: Batch
    #: Where the sample images come from ("val" or "train"), for the log.
    samples_from: str = "val"


@dataclass
class SampleGrid:
    """Columns of a sample grid: a title and a (K, 3, H, W) batch in 0..1 for each."""

    titles: list[str]
    columns: list[torch.Tensor]


class Trainer(ABC):
    """One architecture's training step. Subclasses set the class attributes and methods."""

    arch: ClassVar[str]
    #: The names of the losses :meth:`train_step` returns, in display order.
    loss_names: ClassVar[tuple[str, ...]]

    def __init__(self, config: RunConfig, cluster: Cluster, precision: Precision) -> None:
        self.config = config
        self.cluster = cluster
        self.precision = precision
        self.device = cluster.device
        #: The networks by their upstream file name (``net_G``, ``net_D_A`` …), unwrapped.
        self.nets: dict[str, nn.Module] = {}
        self.optimizers: dict[str, Optimizer] = {}

    def add_net(self, name: str, module: nn.Module) -> nn.Module:
        """Register ``module`` as ``net_<name>``; returns it ready to train (on the device,
        inside DistributedDataParallel when several processes train)."""
        module = module.to(self.device)
        self.nets[name] = module
        return self.cluster.wrap(module)

    def adam(self, modules: Iterable[nn.Module]) -> Optimizer:
        """Adam over ``modules``' parameters with the run's learning rate and betas."""
        loop = self.config.loop
        params = [p for m in modules for p in m.parameters()]
        return torch.optim.Adam(params, lr=loop.lr, betas=(loop.beta1, loop.beta2))

    def autocast(self) -> AbstractContextManager[None]:
        """The run's precision for forward passes (bf16 autocast or nothing)."""
        return autocast(self.device, self.precision)

    @staticmethod
    def set_requires_grad(nets: Iterable[nn.Module], flag: bool) -> None:
        """Freeze or unfreeze ``nets`` (discriminators during the generator's step)."""
        for net in nets:
            net.requires_grad_(flag)

    def to_device(self, batch: Batch) -> Batch:
        """``batch`` with its tensors on the run's device."""
        return {
            k: v.to(self.device, non_blocking=True) if isinstance(v, torch.Tensor) else v
            for k, v in batch.items()
        }

    @abstractmethod
    def data(self) -> TrainData:
        """The training dataset and the fixed sample batch."""

    @abstractmethod
    def train_step(self, batch: Batch) -> dict[str, float]:
        """One optimisation step on ``batch``; the losses by :attr:`loss_names`."""

    @abstractmethod
    def sample(self, batch: Batch) -> SampleGrid:
        """The networks' output on the sample batch (called in eval mode, without grad)."""

    def evaluate(self, run: RunFolder, echo: Callable[[str], None]) -> dict[str, Any] | None:
        """Judge the finished model (e.g. on held-out images); the loop calls it once, on
        rank 0, when the last epoch is done. None: nothing to report."""
        return None

    def extra_state(self) -> dict[str, Any]:
        """State beyond networks and optimisers that resume needs (e.g. image pools)."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`extra_state` output."""
        return None


def paired_data(config: RunConfig, *, swap: bool = False) -> TrainData:
    """Aligned pairs from the run's dataset (``train``), cut by its augmentation, and the
    first ``--samples`` pairs of ``val`` (or ``train``) as the fixed sample batch."""
    root = Path(config.data.path)
    train = layout.find_paired(root, "train")
    dataset = PairedDataset(
        train.items,
        layout.read_pair,
        augment_for(config.data),
        seed=config.loop.seed,
        swap=swap,
        repeat=config.data.repeat,
    )
    val = layout.find_paired(root, "val")
    shown = PairedDataset(
        (val or train).items[: config.loop.samples],
        layout.read_pair,
        augment_for(config.data, train=False),
        swap=swap,
    )
    samples = default_collate([shown[i] for i in range(len(shown))])
    return TrainData(dataset, samples, "val" if val else "train")


def require_multiple(size: int, multiple: int) -> None:
    """Refuse a training size the network cannot take (two stride-2 layers: 4)."""
    if size % multiple:
        raise DatasetError(f"--size must be a multiple of {multiple}, not {size}")


def unit(images: torch.Tensor, value_range: str = "-1..1") -> torch.Tensor:
    """Images in ``value_range`` as float 0..1 on the CPU, for a sample grid."""
    images = images.detach().float().cpu()
    if value_range == "-1..1":
        images = (images + 1) / 2
    elif value_range == "0..255":
        images = images / 255
    return images.clamp(0, 1)
