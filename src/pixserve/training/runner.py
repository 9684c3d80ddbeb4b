"""Starting (or resuming) a run: seed, join the process group, pick precision, build, loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from pixserve.core.errors import InvalidRequest
from pixserve.training.distributed import Cluster, join
from pixserve.training.loop import Loop, LoopResult, seed_everything
from pixserve.training.precision import Precision, native_bf16, resolve_precision
from pixserve.training.registry import TRAINERS, Architecture
from pixserve.training.run import RunConfig, RunFolder


@dataclass
class Session:
    """One ``pixserve train`` invocation's choices, besides the run's config."""

    resume: bool = False
    stop_after: int | None = None
    progress: bool = True


def train(
    config: RunConfig,
    run: RunFolder,
    session: Session,
    *,
    echo: Callable[[str], None] = print,
) -> LoopResult:
    """Train ``config`` into ``run`` (a new run, or a resumed one) and return where it ended.

    Every process of a ``torchrun`` group calls this; only rank 0 writes ``run``.
    """
    arch = TRAINERS.get(config.arch)
    if arch is None:
        raise InvalidRequest(f"unknown architecture {config.arch!r} (known: {', '.join(TRAINERS)})")
    cluster = join(config.loop.device)
    try:
        result = _train_on(cluster, arch, config, run, session, echo)
    except BaseException:
        cluster.close(clean=False)
        raise
    # The trainer and its DDP wrappers died with _train_on's frame: the group goes last.
    cluster.close()
    return result


def _train_on(
    cluster: Cluster,
    arch: Architecture,
    config: RunConfig,
    run: RunFolder,
    session: Session,
    echo: Callable[[str], None],
) -> LoopResult:
    seed_everything(config.loop.seed)
    precision = _precision(config, cluster, resumed=session.resume)
    config.loop.chosen_precision = precision.name
    if cluster.is_main:
        run.save_config(config)
    trainer = arch.trainer(config, cluster, precision)
    say = echo if cluster.is_main else (lambda _: None)
    threads = torch.get_num_threads() if cluster.device.type == "cpu" else None
    where = f"{cluster.device}" + (f", {threads} threads" if threads else "")
    procs = f" × {cluster.world_size} processes" if cluster.distributed else ""
    say(f"{config.arch}: {where}{procs}; precision {precision.name} ({precision.reason})")
    loop = Loop(trainer, run, progress=session.progress, stop_after=session.stop_after, echo=say)
    return loop.run(resume=session.resume)


def _precision(config: RunConfig, cluster: Cluster, *, resumed: bool) -> Precision:
    """The run's format. ``auto`` may be timed (AVX512-BF16 without AMX), and a timing
    near the line could flip between two starts: a resumed run keeps what its start chose,
    unless that was bf16 and this device has none. Every process trains as rank 0 chose."""
    chosen = config.loop.chosen_precision
    if config.loop.precision == "auto" and resumed and chosen in ("fp32", "bf16"):
        native, evidence = native_bf16(cluster.device)
        if chosen == "fp32" or native:
            return Precision(chosen, f"auto, as the run chose at its start; {evidence}")
    return cluster.gather(resolve_precision(config.loop.precision, cluster.device))[0]
