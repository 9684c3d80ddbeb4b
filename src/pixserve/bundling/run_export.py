"""``pixserve export RUN --name NAME``: a training run's generator becomes a style.

Needs torch. The run's checkpoint is read by the same family loader ``pixserve import``
uses (pixserve writes the upstream key layouts), then :func:`publish` exports, verifies
and writes the bundle, with a thumbnail rendered from the run's first validation image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pixserve.bundling.checkpoint_import import ImportResult, publish
from pixserve.bundling.checkpoint_import import _sha256 as sha256
from pixserve.core.errors import CheckpointError, PixserveError
from pixserve.models import load_family, read_state_dict
from pixserve.training import layout
from pixserve.training.run import RunConfig, RunFolder, exportable

#: A pix2pix U-Net has seen only its training size; larger inputs change its look.
PAIRED_ARCHES = ("pix2pix",)


def export_run(
    run_path: Path,
    root: Path,
    *,
    name: str,
    net: str | None = None,
    epoch: str = "latest",
    title: str | None = None,
    description: str | None = None,
    max_side: int | None = None,
    tile: int | None = None,
    tile_overlap: int | None = None,
    running_stats: bool = False,
    fast: bool | None = None,
    force: bool = False,
) -> ImportResult:
    """Publish network ``net`` (default: the run's first exportable one) of ``epoch``.

    Raises :class:`CheckpointError` for a run without that network or checkpoint.
    """
    run = RunFolder(run_path)
    config = run.load_config()
    nets = exportable(config)
    chosen = net or next(iter(nets), "")
    if chosen not in nets:
        known = ", ".join(nets) or "none"
        raise CheckpointError(f"a {config.arch} run exports {known}, not {chosen!r}")
    checkpoint = run.net_path(chosen, epoch)
    if not checkpoint.is_file():
        kept = sorted(p.name for p in run.checkpoints.glob(f"*_net_{chosen}.pth"))
        raise CheckpointError(f"{checkpoint} not found (the run has: {', '.join(kept) or 'none'})")
    options = {"batch_stats": "running" if running_stats else "image"}
    loaded = load_family(nets[chosen], read_state_dict(checkpoint), **options)
    if max_side is None and config.arch in PAIRED_ARCHES:
        max_side = config.data.size
    data = Path(config.data.path).name
    return publish(
        loaded,
        root,
        name=name,
        title=title,
        description=description or f"{config.arch} trained by pixserve on {data}.",
        source={
            "run": str(run.path.resolve()),
            "net": chosen,
            "epoch": epoch,
            "file": checkpoint.name,
            "sha256": sha256(checkpoint),
            "arch": config.arch,
            "data": config.data.path,
        },
        max_side=max_side,
        tile=tile,
        tile_overlap=tile_overlap,
        force=force,
        fast=fast,
        sample=sample_input(config, chosen),
    )


def sample_input(config: RunConfig, net: str) -> np.ndarray | None:
    """What ``net`` takes, from the run's data (first validation image, else training):
    a sketch for a sketch → face pix2pix, a B image for CycleGAN's ``G_B``. None when the
    data is gone (the thumbnail then uses pixserve's own sample photo)."""
    root = Path(config.data.path)
    try:
        if config.arch in ("pix2pix", "distill"):
            pairs = layout.find_paired(root, "val", check=False) or layout.find_paired(
                root, "train", check=False
            )
            a, b = layout.read_pair(pairs[0])
            return b if config.data.direction == "BtoA" else a
        if config.arch == "cyclegan":
            sets = layout.find_unaligned(root, "val", check=False)
            if not (sets.a_files and sets.b_files):
                sets = layout.find_unaligned(root, "train", check=False)
            return layout.read_image(sets.a_files[0] if net == "G_A" else sets.b_files[0])
        photos = layout.find_images(root, "val", check=False) or layout.find_images(
            root, "train", check=False
        )
        return layout.read_image(photos[0])
    except (PixserveError, IndexError, OSError):
        return None
