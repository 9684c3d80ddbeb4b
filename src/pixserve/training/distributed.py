"""Where a run computes: one device, or one process per device under ``torchrun``.

``torchrun --nproc_per_node N -m pixserve.cli train …`` starts N processes with
``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` set; each trains on its own shard of every epoch and
``DistributedDataParallel`` averages the gradients (NCCL on GPUs, gloo on CPUs). Only rank 0
writes the run folder. Without those variables a run is a single process.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from pixserve.core.errors import InvalidRequest


@dataclass(frozen=True)
class Cluster:
    """This process's place: device, rank and world size."""

    device: torch.device
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints, logs and samples."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """Whether more than one process trains."""
        return self.world_size > 1

    def wrap(self, module: nn.Module) -> nn.Module:
        """``module`` on this device, inside DDP when distributed."""
        module = module.to(self.device)
        if not self.distributed:
            return module
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids)

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """``values`` averaged over all processes (the same keys on every rank)."""
        if not self.distributed or not values:
            return values
        keys = sorted(values)
        t = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return {k: float(v) / self.world_size for k, v in zip(keys, t.tolist(), strict=True)}

    def gather(self, obj: Any) -> list[Any]:
        """Every rank's ``obj``, in rank order (on every rank)."""
        if not self.distributed:
            return [obj]
        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def barrier(self) -> None:
        """Wait for every process."""
        if self.distributed:
            dist.barrier()

    def close(self, *, clean: bool = True) -> None:
        """Leave the process group.

        After a clean finish a rank leaves in order. What refers to the group's work (the
        DDP wrappers and their reducers) is already freed, with the interpreter fully alive
        (``gc.collect`` catches any in a reference cycle). Then the ranks wait for each
        other, so none closes its connections while a peer is still finishing (rank 0
        evaluates and saves after the last step). Then the group goes. Destroying it under
        live wrappers, with no wait, once aborted a finished rank in CI ("terminate called
        without an active exception"). After an error a rank leaves at once: a peer may be
        inside a collective the failing rank will never join.
        """
        if not (self.distributed and dist.is_initialized()):
            return
        if clean:
            gc.collect()
            dist.barrier()
        dist.destroy_process_group()


def unwrap(module: nn.Module) -> nn.Module:
    """The module inside a DDP wrapper (or the module itself)."""
    return module.module if isinstance(module, DistributedDataParallel) else module


def pick_device(requested: str) -> torch.device:
    """``auto``: the first GPU when CUDA is available, else the CPU; or what was asked."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except RuntimeError as exc:
        raise InvalidRequest(f"--device {requested!r}: {exc}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InvalidRequest(f"--device {requested}: CUDA is not available on this machine")
    return device


def join(requested_device: str = "auto") -> Cluster:
    """Join the ``torchrun`` process group if this process is part of one.

    Each process gets its own GPU (``cuda:LOCAL_RANK``) or, on CPUs, an equal share of the
    cores, so N processes do not oversubscribe the machine.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Cluster(device=pick_device(requested_device))
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    base = pick_device(requested_device)
    if base.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        device = torch.device("cpu")
        backend = "gloo"
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_world))
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return Cluster(device, rank, world, local_rank, local_world)
