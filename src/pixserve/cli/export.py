"""``pixserve export RUN --name NAME``: a trained model becomes a style ``serve`` runs."""

from __future__ import annotations

from pathlib import Path

import click

from pixserve.cli.import_ import default_root, report
from pixserve.cli.options import bundle_options, friendly_errors
from pixserve.core.errors import CheckpointError


@click.command()
@click.argument("run", type=click.Path(path_type=Path))
@bundle_options
@click.option(
    "--net", default=None, help="Which network (cyclegan: G_A or G_B; default: the first)."
)
@click.option("--epoch", default="latest", show_default=True, help="A kept epoch, e.g. 25.")
@click.option(
    "--max-side",
    type=click.IntRange(16, 8192),
    default=None,
    help="Longest side served (default: the training size for pix2pix, else 1024).",
)
@click.option(
    "--tile",
    type=click.IntRange(0, 8192),
    default=None,
    help="Tile size; 0 = off (default: 256 for models without normalisation).",
)
@click.option("--tile-overlap", type=click.IntRange(0, 4096), default=None)
@click.option("--eval", "running_stats", is_flag=True, help="BatchNorm with running statistics.")
@click.option(
    "--fast", is_flag=True, default=None, help="Cheap enough for POST /v1/translate (inline)."
)
@click.option("--force", is_flag=True, help="Replace an existing bundle of that name.")
@friendly_errors
def export(
    run: Path,
    name: str,
    net: str | None,
    epoch: str,
    title: str | None,
    description: str | None,
    styles_dir: Path | None,
    max_side: int | None,
    tile: int | None,
    tile_overlap: int | None,
    running_stats: bool,
    fast: bool | None,
    force: bool,
) -> None:
    """Export RUN's generator to ONNX, verify it against PyTorch, and write a style bundle."""
    try:
        from pixserve.bundling.run_export import export_run
    except ImportError as exc:
        raise CheckpointError(
            f"exporting a run needs torch: pip install 'pixserve[train]' ({exc})"
        ) from exc
    result = export_run(
        run,
        styles_dir or default_root(),
        name=name,
        net=net,
        epoch=epoch,
        title=title,
        description=description,
        max_side=max_side,
        tile=tile,
        tile_overlap=tile_overlap,
        running_stats=running_stats,
        fast=fast,
        force=force,
    )
    report(result)
