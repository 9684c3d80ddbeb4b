"""A PyTorch model becomes a style: export, verify, write the bundle and its thumbnail.

Needs torch (the ``train`` extra). :func:`import_checkpoint` is ``pixserve import`` for a
published checkpoint file; :func:`publish` does the same for a model already loaded (a
training run's generator), so both make the same bundles.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pixserve.bundling.onnx_export import TOLERANCE, Verification, export_onnx, verify
from pixserve.bundling.writer import check_name, onnx_manifest, write_bundle
from pixserve.core.errors import CheckpointMismatch
from pixserve.core.tensor_io import ValueRange
from pixserve.models import LoadedModel, ModelIO, guess_family, load_family, read_state_dict, ugatit
from pixserve.models.tensorbundle import checkpoint_prefix
from pixserve.models.ugatit import Direction
from pixserve.pipeline import Style

#: Tiles used for local (receptive-field-limited) models, e.g. Real-ESRGAN upscalers.
LOCAL_TILE, LOCAL_OVERLAP = 256, 32


@dataclass
class ImportResult:
    """What ``pixserve import`` (and ``pixserve export``) report."""

    style: Style
    loaded: LoadedModel
    verification: Verification
    #: Why the bundle has no ``thumbnail.jpg``; None when it has one (``style.thumbnail``).
    thumbnail_skipped: str | None = None


def publish(
    loaded: LoadedModel,
    root: Path,
    *,
    name: str,
    title: str | None = None,
    description: str | None = None,
    source: Mapping[str, Any] | None = None,
    max_side: int | None = None,
    tile: int | None = None,
    tile_overlap: int | None = None,
    force: bool = False,
    tolerance: float = TOLERANCE,
    sample: np.ndarray | None = None,
    fast: bool | None = None,
    face: bool | None = None,
) -> ImportResult:
    """Export ``loaded`` to ONNX, verify it against PyTorch, write the bundle ``root/name``.

    ``config.json`` holds ``loaded.config_dict()``, ``source`` (where the model came from:
    a file and its hash, a training run and epoch …) under the key ``"source"``, and the
    verification figures. ``tile`` defaults to :data:`LOCAL_TILE` px (overlap
    :data:`LOCAL_OVERLAP`) for local models (``loaded.io.local``) and to no tiles
    otherwise, ``max_side`` to the format's default (1024); ``face`` adds the face step.
    The thumbnail is rendered from ``sample`` (RGB uint8; default: the photo shipped with
    pixserve); a sample that does not render leaves no thumbnail and says why in
    :attr:`ImportResult.thumbnail_skipped`, it never fails the import.

    Raises :class:`~pixserve.core.errors.ExportMismatch` when ONNX Runtime differs from
    PyTorch by more than ``tolerance`` × the value range, and
    :class:`~pixserve.core.errors.BundleError` for a bad name, an existing bundle without
    ``force``, or a tile the format does not allow.
    """
    if tile is None and loaded.io.local:
        tile = LOCAL_TILE
    if tile_overlap is None and tile:
        tile_overlap = LOCAL_OVERLAP
    manifest = onnx_manifest(
        loaded.io,
        name=name,
        title=title,
        description=description or f"A {loaded.family} model.",
        max_side=max_side,
        tile=tile,
        tile_overlap=tile_overlap,
        fast=fast,
        face=face,
    )
    with tempfile.TemporaryDirectory(prefix="pixserve-import-") as tmp:
        onnx_path = Path(tmp) / "model.onnx"
        export_onnx(loaded, onnx_path)
        check = verify(loaded, onnx_path, tolerance=tolerance)
        config = loaded.config_dict() | {
            "source": dict(source or {}),
            "verification": {
                "max_abs_error": check.max_abs_error,
                "tolerance": check.tolerance,
                "probe": list(check.probe_shape),
                "torch": torch.__version__,
            },
        }
        written = write_bundle(
            root, manifest, model=onnx_path, config=config, sample=sample, force=force
        )
    return ImportResult(written.style, loaded, check, written.thumbnail_skipped)


def import_checkpoint(
    arch: str,
    checkpoint: Path,
    root: Path,
    *,
    name: str,
    title: str | None = None,
    description: str | None = None,
    options: dict[str, Any] | None = None,
    tile: int | None = None,
    tile_overlap: int | None = None,
    max_side: int | None = None,
    force: bool = False,
    tolerance: float = TOLERANCE,
    sample: np.ndarray | None = None,
) -> ImportResult:
    """Load ``checkpoint`` as ``arch`` (or ``auto``: guessed from the keys) and
    :func:`publish` it as ``root/name``; ``options`` go to the family's loader."""
    check_name(name)
    state = read_state_dict(checkpoint)
    family = guess_family(state) if arch == "auto" else arch
    loaded = load_family(family, state, **(options or {}))
    return publish(
        loaded,
        root,
        name=name,
        title=title,
        description=description or f"Imported {loaded.family} model ({checkpoint.name}).",
        source={"file": checkpoint.name, "sha256": _sha256(checkpoint)},
        max_side=max_side,
        tile=tile,
        tile_overlap=tile_overlap,
        force=force,
        tolerance=tolerance,
        sample=sample,
    )


def import_ugatit(
    checkpoint: Path,
    root: Path,
    *,
    name: str,
    direction: Direction = "a2b",
    smoothing: bool | None = None,
    img_size: int | None = None,
    title: str | None = None,
    description: str | None = None,
    max_side: int | None = None,
    force: bool = False,
    tolerance: float = TOLERANCE,
    sample: np.ndarray | None = None,
) -> ImportResult:
    """A U-GAT-IT generator (TF checkpoint or PyTorch params file) as a face style.

    The style takes ``img_size``² inputs (the full model's size, read from its tensors;
    256 for a light model unless given), and finds the face itself when the job has no
    crop. ``max_side`` defaults to twice the input size: the output is resized back to
    the face crop, and a 256-px model gains nothing from more.
    """
    check_name(name)
    module = ugatit.load(checkpoint, direction=direction, smoothing=smoothing)
    cfg = module.config
    size = img_size or cfg.img_size
    if not cfg.light and size != cfg.img_size:
        raise CheckpointMismatch(
            f"this full U-GAT-IT model takes {cfg.img_size}² images only (its MLP reads the "
            f"whole feature map); --img-size {size} does not fit"
        )
    cfg.img_size = size
    notes = [
        f"{'light' if cfg.light else 'full'} U-GAT-IT from a {cfg.source} checkpoint, "
        f"{direction}, ngf {cfg.ngf}, {cfg.n_blocks} blocks, {size}×{size} input",
    ]
    if cfg.source == "tensorflow":
        notes.append(f"AdaLIN smoothing {'on' if cfg.rho_offset else 'off'}")
    io = ModelIO(range=ValueRange.SIGNED, input_size=size)
    loaded = LoadedModel("ugatit", module, cfg, io, notes)
    return publish(
        loaded,
        root,
        name=name,
        title=title,
        description=description or f"U-GAT-IT ({direction}), imported from {checkpoint.name}.",
        source={
            "file": checkpoint.name,
            "direction": direction,
            "sha256": _tree_sha256(checkpoint),
        },
        max_side=max_side or 2 * size,
        force=force,
        tolerance=tolerance,
        sample=sample,
        face=True,
    )


def _tree_sha256(path: Path) -> str:
    """The SHA-256 of a checkpoint file, or of a TF checkpoint's index file."""
    if path.is_file() and not path.name.endswith((".index", ".meta")) and ".data-" not in path.name:
        return _sha256(path)
    prefix = checkpoint_prefix(path)
    return _sha256(prefix.with_name(prefix.name + ".index"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
