"""The one training loop every architecture shares.

It owns epochs, the learning-rate schedule, the progress bar, ``losses.csv``/``losses.png``,
sample grids, checkpoints and resume; the :class:`~pixserve.training.trainer.Trainer` owns
the networks, their losses and one optimisation step.

Resume is exact: the saved state holds every network, optimiser and schedule, each
process's random generators and the position inside the epoch; with the sampler's
``(seed, epoch)`` order and the datasets' ``(seed, epoch, index)`` augmentation, a run that
was stopped (Ctrl-C, ``--stop-after``) and resumed computes the same weights as one that
never stopped.
"""

from __future__ import annotations

import io
import math
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import DataLoader
from tqdm import tqdm

from pixserve.core.errors import InvalidRequest
from pixserve.training.data import EpochSampler
from pixserve.training.logbook import LossLog, plot_losses
from pixserve.training.run import RunFolder, write_atomic
from pixserve.training.samples import save_grid
from pixserve.training.trainer import Trainer

STATE_FORMAT = 1


@dataclass
class LoopResult:
    """Where a call to :meth:`Loop.run` left the run."""

    epochs_done: int
    step: int
    #: Stopped before the last epoch (by Ctrl-C or ``stop_after``); ``--resume`` continues.
    stopped: bool
    seconds: float
    #: This process is rank 0 (the one that writes and reports).
    main: bool = True


@dataclass
class _Position:
    epoch: int = 0  # epochs completed
    iteration: int = 0  # batches done in the current epoch
    step: int = 0  # batches done in the whole run
    seconds: float = 0.0  # training time in earlier sessions


def linear_decay(epochs: int, decay_epochs: int) -> Callable[[int], float]:
    """pix2pix/CycleGAN's schedule: constant, then linearly down over the last epochs."""
    constant = epochs - decay_epochs

    def factor(epoch: int) -> float:
        return 1.0 - max(0, epoch + 1 - constant) / float(decay_epochs + 1)

    return factor


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators (network initialisation)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class Loop:
    """Trains ``trainer`` into ``run``. Only rank 0 writes files; every rank trains."""

    def __init__(
        self,
        trainer: Trainer,
        run: RunFolder,
        *,
        progress: bool = True,
        stop_after: int | None = None,
        echo: Callable[[str], None] = print,
    ) -> None:
        self.trainer = trainer
        self.run_folder = run
        self.progress = progress
        self.stop_after = stop_after
        self._main = trainer.cluster.is_main
        self.echo = echo if self._main else (lambda _: None)
        self._stop = threading.Event()
        self.log = LossLog(run.losses_csv, trainer.loss_names)
        cfg = trainer.config.loop
        self._steps_per_epoch = 1
        self._last_means: dict[str, float] = {}
        self.schedulers = {
            name: LambdaLR(opt, linear_decay(cfg.epochs, cfg.decay_epochs))
            for name, opt in trainer.optimizers.items()
        }

    def request_stop(self) -> None:
        """Stop after the current step, saving a state that ``--resume`` continues from."""
        self._stop.set()

    # -- the loop ---------------------------------------------------------------------------

    def run(self, *, resume: bool = False) -> LoopResult:
        """Train until the configured number of epochs (or a stop); see the module docstring."""
        trainer, cluster, cfg = self.trainer, self.trainer.cluster, self.trainer.config.loop
        data = trainer.data()
        sampler = EpochSampler(
            len(data.train), seed=cfg.seed, rank=cluster.rank, world_size=cluster.world_size
        )
        loader = DataLoader(
            data.train,
            batch_size=cfg.batch_size,
            sampler=sampler,
            num_workers=cfg.workers,
            pin_memory=cluster.device.type == "cuda",
            # Its own generator: creating an iterator must not consume the global one.
            generator=torch.Generator().manual_seed(cfg.seed),
        )
        pos = self._load_state() if resume else self._fresh()
        if pos.epoch >= cfg.epochs:
            self.echo(f"the run has done all {cfg.epochs} epochs; pass --epochs to train longer")
            return LoopResult(pos.epoch, pos.step, False, pos.seconds, self._main)
        started = time.monotonic()
        self._steps_per_epoch = math.ceil(sampler.share() / cfg.batch_size)
        first_epoch = pos.epoch
        with self._catch_interrupt():
            while pos.epoch < cfg.epochs:
                if self.stop_after is not None and pos.epoch - first_epoch >= self.stop_after:
                    return self._stopped(pos, started)
                data.train.set_epoch(pos.epoch)
                sampler.set_epoch(pos.epoch, skip=pos.iteration * cfg.batch_size)
                epoch_started, resumed_at = time.monotonic(), pos.iteration
                if not self._train_epoch(loader, pos, started):
                    return self._stopped(pos, started)
                for scheduler in self.schedulers.values():
                    scheduler.step()
                pos.epoch += 1
                pos.iteration = 0
                took = time.monotonic() - epoch_started
                self._end_of_epoch(
                    data.samples, pos, started, took, self._steps_per_epoch - resumed_at
                )
                if pos.epoch < cfg.epochs and self._stopping():
                    return self._stopped(pos, started)
        if cluster.is_main:
            trainer.evaluate(self.run_folder, self.echo)
        seconds = pos.seconds + time.monotonic() - started
        return LoopResult(pos.epoch, pos.step, False, seconds, self._main)

    def _train_epoch(self, loader: DataLoader[Any], pos: _Position, started: float) -> bool:
        """The rest of the current epoch; False when a stop was asked for before its end."""
        trainer, cfg = self.trainer, self.trainer.config.loop
        for net in trainer.nets.values():
            net.train()
        window: dict[str, float] = {}
        window_steps = 0
        bar = tqdm(
            total=self._steps_per_epoch,
            initial=pos.iteration,
            desc=f"epoch {pos.epoch + 1}/{cfg.epochs}",
            unit="it",
            dynamic_ncols=True,
            disable=not (self.progress and trainer.cluster.is_main),
            leave=False,
        )
        with bar:
            for batch in loader:
                losses = trainer.train_step(trainer.to_device(batch))
                pos.iteration += 1
                pos.step += 1
                for k, v in losses.items():
                    window[k] = window.get(k, 0.0) + v
                window_steps += 1
                bar.update(1)
                if pos.step % cfg.log_every == 0 or pos.iteration == self._steps_per_epoch:
                    means = trainer.cluster.mean({k: v / window_steps for k, v in window.items()})
                    self._log_row(pos, means, started)
                    self._last_means = means
                    bar.set_postfix_str(_short(means), refresh=False)
                    window, window_steps = {}, 0
                if pos.iteration < self._steps_per_epoch and self._stopping():
                    return False
        return True

    # -- per epoch ----------------------------------------------------------------------------

    def _end_of_epoch(
        self, samples: dict[str, Any], pos: _Position, started: float, took: float, steps: int
    ) -> None:
        trainer, cfg, run = self.trainer, self.trainer.config.loop, self.run_folder
        if trainer.cluster.is_main:
            sample_path = run.sample_path(pos.epoch)
            self._save_samples(samples, pos, sample_path)
            plot_losses(
                self.log, run.losses_png, trainer.loss_names, f"{trainer.arch}: {run.path.name}"
            )
            keep = pos.epoch % cfg.save_every == 0 or pos.epoch == cfg.epochs
            self._save_nets(pos.epoch if keep else None)
        self._save_state(pos, started)
        # The time left from this session's pace (a resumed epoch ran only part of its steps).
        left = (cfg.epochs - pos.epoch) * self._steps_per_epoch * took / max(steps, 1)
        eta = f", about {_duration(left)} left" if pos.epoch < cfg.epochs else ""
        self.echo(
            f"epoch {pos.epoch}/{cfg.epochs} in {_duration(took)}: {_short(self._last_means)}{eta}"
        )

    def _save_samples(self, samples: dict[str, Any], pos: _Position, path: Any) -> None:
        trainer = self.trainer
        for net in trainer.nets.values():
            net.eval()
        with torch.no_grad():
            grid = trainer.sample(trainer.to_device(samples))
        for net in trainer.nets.values():
            net.train()
        caption = (
            f"{trainer.arch} · epoch {pos.epoch}/{trainer.config.loop.epochs} · step {pos.step}"
        )
        save_grid(grid, path, caption)

    def _log_row(self, pos: _Position, means: dict[str, float], started: float) -> None:
        if not self.trainer.cluster.is_main:
            return
        cfg = self.trainer.config.loop
        first = next(iter(self.trainer.optimizers.values()))
        row = {
            "epoch": round(pos.epoch + pos.iteration / self._steps_per_epoch, 4),
            "step": pos.step,
            "images": pos.step * cfg.batch_size * self.trainer.cluster.world_size,
            **means,
            "lr": first.param_groups[0]["lr"],
            "seconds": round(pos.seconds + time.monotonic() - started, 2),
        }
        self.log.append(row)

    # -- checkpoints ----------------------------------------------------------------------------

    def _save_nets(self, epoch: int | None) -> None:
        """``latest_net_<name>.pth`` (and ``<epoch>_net_<name>.pth``): upstream layouts."""
        for name, net in self.trainer.nets.items():
            body = _torch_bytes({k: v.detach().cpu() for k, v in net.state_dict().items()})
            write_atomic(self.run_folder.net_path(name), body)
            if epoch is not None:
                write_atomic(self.run_folder.net_path(name, epoch), body)

    def _save_state(self, pos: _Position, started: float) -> None:
        trainer, cluster = self.trainer, self.trainer.cluster
        # Every rank's generators (dropout masks differ per rank) and extra state, gathered.
        rngs = cluster.gather(_rng_state(cluster.device))
        extras = cluster.gather(trainer.extra_state())
        if not cluster.is_main:
            return
        state = {
            "format": STATE_FORMAT,
            "arch": trainer.arch,
            "epoch": pos.epoch,
            "iteration": pos.iteration,
            "step": pos.step,
            "seconds": pos.seconds + time.monotonic() - started,
            "world_size": cluster.world_size,
            "nets": {n: m.state_dict() for n, m in trainer.nets.items()},
            "optimizers": {n: o.state_dict() for n, o in trainer.optimizers.items()},
            "schedulers": {n: s.state_dict() for n, s in self.schedulers.items()},
            "rng": rngs,
            "extra": extras,
        }
        write_atomic(self.run_folder.state_path, _torch_bytes(state))

    def _load_state(self) -> _Position:
        trainer, cluster = self.trainer, self.trainer.cluster
        path = self.run_folder.state_path
        if not path.is_file():
            raise InvalidRequest(f"{path} not found: nothing to resume (the run saved no state)")
        state = torch.load(path, map_location="cpu", weights_only=True)
        if state.get("format") != STATE_FORMAT or state.get("arch") != trainer.arch:
            raise InvalidRequest(f"{path}: not a {trainer.arch} training state")
        for name, net in trainer.nets.items():
            net.load_state_dict(state["nets"][name])
        for name, opt in trainer.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        for name, scheduler in self.schedulers.items():
            scheduler.load_state_dict(state["schedulers"][name])
            # The schedule may have been lengthened (--epochs): set the rate it gives now.
            for group, base, fn in zip(
                scheduler.optimizer.param_groups,
                scheduler.base_lrs,
                scheduler.lr_lambdas,
                strict=True,
            ):
                group["lr"] = base * fn(scheduler.last_epoch)
        if len(state["rng"]) == cluster.world_size:
            _set_rng_state(state["rng"][cluster.rank], cluster.device)
            trainer.load_extra_state(state["extra"][cluster.rank])
        else:
            self.echo(
                f"note: the run was trained by {len(state['rng'])} processes, now "
                f"{cluster.world_size}: random streams restart, so it will not repeat exactly"
            )
            seed_everything(trainer.config.loop.seed + 7919 * cluster.rank + state["step"])
            trainer.load_extra_state(state["extra"][0])
        pos = _Position(state["epoch"], state["iteration"], state["step"], state["seconds"])
        if cluster.is_main:
            self.log.truncate(pos.step)
        where = f"epoch {pos.epoch + 1}" + (f", step {pos.iteration}" if pos.iteration else "")
        self.echo(f"resuming {self.run_folder.path} at {where} ({pos.step} steps done)")
        return pos

    def _fresh(self) -> _Position:
        cluster = self.trainer.cluster
        # Each process its own dropout stream; rank 0 keeps the single-process one.
        torch.manual_seed(self.trainer.config.loop.seed + 7919 * cluster.rank)
        if cluster.is_main:
            self.log.path.unlink(missing_ok=True)
        return _Position()

    def _stopped(self, pos: _Position, started: float) -> LoopResult:
        if self.trainer.cluster.is_main:
            self._save_nets(None)
        self._save_state(pos, started)
        where = f"after epoch {pos.epoch}" + (f" + {pos.iteration} steps" if pos.iteration else "")
        self.echo(f"stopped {where}; continue with --resume {self.run_folder.path}")
        seconds = pos.seconds + time.monotonic() - started
        return LoopResult(pos.epoch, pos.step, True, seconds, self._main)

    # -- stopping -----------------------------------------------------------------------------

    def _stopping(self) -> bool:
        """Whether any process was asked to stop (all agree, so none waits for the others)."""
        flag = self._stop.is_set()
        cluster = self.trainer.cluster
        if cluster.distributed:
            t = torch.tensor([1 if flag else 0], device=cluster.device)
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            flag = bool(t.item())
        return flag

    @contextmanager
    def _catch_interrupt(self) -> Iterator[None]:
        """First Ctrl-C: finish the step, save, stop. Second: stop at once."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            if self._stop.is_set():
                raise KeyboardInterrupt
            self.echo("\nstopping after this step (Ctrl-C again to abort without saving)")
            self._stop.set()

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def _rng_state(device: torch.device) -> dict[str, Any]:
    legacy: tuple[Any, ...] = np.random.get_state(legacy=True)  # type: ignore[assignment]
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": [legacy[0], torch.from_numpy(legacy[1].astype(np.int64)), *legacy[2:]],
        "python": random.getstate(),
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def _torch_bytes(obj: Any) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _short(values: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.4g}" for k, v in values.items())


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
