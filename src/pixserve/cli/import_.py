"""``pixserve import ARCH CHECKPOINT --name NAME``: a published checkpoint becomes a style."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pixserve.cli.options import bundle_options, friendly_errors
from pixserve.core.errors import BundleError, CheckpointError
from pixserve.core.settings import get_settings

if TYPE_CHECKING:
    from pixserve.bundling.checkpoint_import import ImportResult
    from pixserve.pipeline import Style

ARCHES = [
    "auto",
    "cyclegan",
    "pix2pix",
    "pix2pixhd",
    "fast-style",
    "animegan2",
    "realesrgan",
    "compact",
    "ugatit",
    "onnx",
]


@click.command("import")
@click.argument("arch", type=click.Choice(ARCHES))
@click.argument("checkpoint", type=click.Path(path_type=Path))
@bundle_options
@click.option("--force", is_flag=True, help="Replace an existing bundle of that name.")
@click.option(
    "--max-side",
    type=click.IntRange(16, 8192),
    default=None,
    help="Longest side after the crop, [pipeline] max_side (default 1024).",
)
@click.option("--tile", type=click.IntRange(0, 8192), default=None, help="Tile size; 0 = off.")
@click.option("--tile-overlap", type=click.IntRange(0, 4096), default=None)
@click.option(
    "--eval",
    "running_stats",
    is_flag=True,
    help="cyclegan/pix2pix/pix2pixhd: BatchNorm with running statistics (test.py --eval).",
)
@click.option(
    "--align-corners/--no-align-corners",
    default=False,
    show_default=True,
    help="animegan2: decoder resize of forward(align_corners=True) vs test.py's default.",
)
@click.option(
    "--act",
    type=click.Choice(["prelu", "relu", "leakyrelu"]),
    default=None,
    help="realesrgan SRVGG without PReLU weights: its activation.",
)
@click.option(
    "--direction",
    type=click.Choice(["a2b", "b2a"]),
    default="a2b",
    show_default=True,
    help="ugatit: which generator (a2b is selfie → anime in selfie2anime).",
)
@click.option(
    "--smoothing/--no-smoothing",
    default=None,
    help="ugatit, TensorFlow: AdaLIN's rho − 0.1, as the TF code's --smoothing (default: "
    "as the checkpoint folder's name says, else on).",
)
@click.option(
    "--img-size",
    type=click.IntRange(16, 4096),
    default=None,
    help="ugatit: the input size (default: read from a full model; 256 for a light one).",
)
@click.option("--range", "value_range", type=click.Choice(["0..1", "-1..1", "0..255"]))
@click.option("--layout", type=click.Choice(["NCHW", "NHWC"]), default="NCHW", show_default=True)
@click.option("--channels", type=click.Choice(["RGB", "BGR"]), default="RGB", show_default=True)
@click.option("--size-multiple", type=click.IntRange(1, 512), default=1, show_default=True)
@click.option("--scale", type=click.IntRange(1, 16), default=1, show_default=True)
@friendly_errors
def import_(
    arch: str,
    checkpoint: Path,
    name: str,
    title: str | None,
    description: str | None,
    styles_dir: Path | None,
    force: bool,
    max_side: int | None,
    tile: int | None,
    tile_overlap: int | None,
    running_stats: bool,
    align_corners: bool,
    act: str | None,
    direction: str,
    smoothing: bool | None,
    img_size: int | None,
    value_range: str | None,
    layout: str,
    channels: str,
    size_multiple: int,
    scale: int,
) -> None:
    """Turn CHECKPOINT (a published .pth/.pt or an .onnx file) into a style bundle.

    ARCH is the architecture (auto: guessed from the file). PyTorch checkpoints are
    exported to ONNX and verified against PyTorch on a probe image; ONNX files are checked
    to run with the I/O given by --range/--layout/--channels/--size-multiple/--scale.
    """
    root = styles_dir or default_root()
    if arch == "ugatit":
        _import_ugatit(
            checkpoint,
            root,
            direction,
            smoothing,
            img_size,
            title,
            description,
            name,
            max_side,
            force,
        )
        return
    if not checkpoint.is_file():
        raise BundleError(f"{checkpoint}: file not found")
    common: dict[str, Any] = {
        "name": name,
        "title": title,
        "description": description,
        "max_side": max_side,
        "force": force,
    }
    if arch == "onnx" or (checkpoint.suffix.lower() == ".onnx" and arch in ("auto", "fast-style")):
        _import_onnx(
            arch,
            checkpoint,
            root,
            common,
            value_range,
            layout,
            channels,
            size_multiple,
            scale,
            tile,
            tile_overlap,
        )
        return
    try:
        from pixserve.bundling.checkpoint_import import import_checkpoint
    except ImportError as exc:
        raise CheckpointError(
            f"importing a PyTorch checkpoint needs torch: pip install 'pixserve[train]' ({exc})"
        ) from exc
    options: dict[str, Any] = {
        "batch_stats": "running" if running_stats else "image",
        "align_corners": align_corners,
        "act_type": act,
    }
    result = import_checkpoint(
        arch, checkpoint, root, options=options, tile=tile, tile_overlap=tile_overlap, **common
    )
    report(result)


def _import_ugatit(
    checkpoint: Path,
    root: Path,
    direction: str,
    smoothing: bool | None,
    img_size: int | None,
    title: str | None,
    description: str | None,
    name: str,
    max_side: int | None,
    force: bool,
) -> None:
    """A TF checkpoint (folder or prefix) or a PyTorch params file."""
    if not (checkpoint.exists() or checkpoint.with_name(checkpoint.name + ".index").is_file()):
        raise BundleError(f"{checkpoint}: no such file or folder")
    from pixserve.bundling.checkpoint_import import import_ugatit

    result = import_ugatit(
        checkpoint,
        root,
        name=name,
        direction="b2a" if direction == "b2a" else "a2b",
        smoothing=smoothing,
        img_size=img_size,
        title=title,
        description=description,
        max_side=max_side,
        force=force,
    )
    report(result)


def report(result: ImportResult) -> None:
    """Say what a checkpoint import (or a run's export) loaded, verified and wrote."""
    check = result.verification
    click.echo(f"{result.loaded.family}: {'; '.join(result.loaded.notes)}")
    click.echo(
        f"verified on a {check.probe_shape[1]}×{check.probe_shape[0]} probe: max abs error "
        f"{check.max_abs_error:.3g} (tolerance {check.tolerance:.3g})"
    )
    _report(result.style, result.thumbnail_skipped)


def _import_onnx(
    arch: str,
    checkpoint: Path,
    root: Path,
    common: dict[str, Any],
    value_range: str | None,
    layout: str,
    channels: str,
    size_multiple: int,
    scale: int,
    tile: int | None,
    tile_overlap: int | None,
) -> None:
    from pixserve.bundling.onnx_import import ZOO_STYLE_INPUT, import_onnx, input_name
    from pixserve.core.tensor_io import TensorIO

    if value_range is None:
        if arch == "fast-style" or input_name(checkpoint) == ZOO_STYLE_INPUT:
            # The ONNX model zoo's fast neural style files: RGB 0..255, two stride-2 convs.
            value_range, size_multiple = "0..255", max(size_multiple, 4)
        else:
            raise click.UsageError("an ONNX model needs --range (0..1, -1..1 or 0..255)")
    io = TensorIO.model_validate(
        {
            "range": value_range,
            "layout": layout,
            "channels": channels,
            "size_multiple": size_multiple,
            "scale": scale,
        }
    )
    result = import_onnx(checkpoint, root, io, tile=tile, tile_overlap=tile_overlap, **common)
    h, w = result.probe_shape
    dynamic = " (fixed input size made dynamic)" if result.made_dynamic else ""
    click.echo(f"onnx: input {result.input_name!r}{dynamic}; ran on a {w}×{h} probe")
    _report(result.style, result.thumbnail_skipped)


def _report(style: Style, thumbnail_skipped: str | None) -> None:
    click.echo(f"style {style.name!r} written to {style.path}")
    if style.thumbnail is not None:
        click.echo(f"thumbnail written to {style.thumbnail}")
    else:
        click.echo(f"no thumbnail: {thumbnail_skipped or 'none was rendered'}")


def default_root() -> Path:
    """Where new bundles go: the first folder of ``PIXSERVE_STYLES_PATH``."""
    dirs = get_settings().style_dirs
    if not dirs:
        raise BundleError("set PIXSERVE_STYLES_PATH or pass --styles-dir to say where styles go")
    return dirs[0]
