"""``pixserve bench``: measure, never assume (figures for the CPU or GPU they ran on)."""

from __future__ import annotations

import click

from pixserve.cli.options import friendly_errors
from pixserve.core.errors import InvalidRequest


@click.group()
def bench() -> None:
    """Benchmarks that print figures with the machine they were measured on."""


@bench.command("train")
@click.argument("arch", type=click.Choice(["pix2pix", "cyclegan", "fast-style"]))
@click.option("--size", type=click.IntRange(32), default=256, show_default=True)
@click.option("--images", type=click.IntRange(1), default=1000, show_default=True,
              help="Training-set size the s/epoch figure is for.")  # fmt: skip
@click.option("--steps", type=click.IntRange(1), default=5, show_default=True)
@click.option("--warmup", type=click.IntRange(0), default=1, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=None)
@click.option(
    "--precision",
    "precisions",
    multiple=True,
    type=click.Choice(["fp32", "bf16"]),
    help="Repeat to choose (default: fp32, and bf16 where it is native).",
)
@click.option("--device", default="auto", show_default=True)
@friendly_errors
def train(
    arch: str,
    size: int,
    images: int,
    steps: int,
    warmup: int,
    batch_size: int | None,
    precisions: tuple[str, ...],
    device: str,
) -> None:
    """Iterations/s and s/epoch of ARCH's training step at --size, per precision."""
    try:
        from pixserve.training.bench import bench_train, machine
    except ImportError as exc:
        raise InvalidRequest(
            f"training needs torch: pip install 'pixserve[train]' ({exc})"
        ) from exc
    click.echo(f"{arch} training step at {size}×{size} on {machine()}")
    results = bench_train(
        arch,
        size=size,
        steps=steps,
        warmup=warmup,
        batch_size=batch_size,
        precisions=precisions,
        device=device,
        echo=click.echo,
    )
    click.echo(f"\n{'precision':<10} {'it/s':>8} {'s/it':>8} {'s/epoch':>10}  ({images} images)")
    for r in results:
        click.echo(
            f"{r.precision:<10} {r.steps_per_second:>8.3g} {r.seconds_per_step:>8.3g} "
            f"{r.seconds_per_epoch(images):>10.0f}"
        )
    if len(results) > 1:
        base = results[0].seconds_per_step
        for r in results[1:]:
            click.echo(f"{r.precision} is {base / r.seconds_per_step:.2f}× {results[0].precision}")
