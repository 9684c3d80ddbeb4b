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
from pixserve.models import LoadedModel, guess_family, load_family, read_state_dict
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
) -> ImportResult:
    """Export ``loaded`` to ONNX, verify it against PyTorch, write the bundle ``root/name``.

    ``config.json`` holds ``loaded.config_dict()``, ``source`` (where the model came from:
    a file and its hash, a training run and epoch …) under the key ``"source"``, and the
    verification figures. ``tile`` defaults to :data:`LOCAL_TILE` px (overlap
    :data:`LOCAL_OVERLAP`) for local models (``loaded.io.local``) and to no tiles
    otherwise, ``max_side`` to the format's default (1024). The thumbnail is rendered from
    ``sample`` (RGB uint8; default: the photo shipped with pixserve); a sample that does
    not render leaves no thumbnail and says why in :attr:`ImportResult.thumbnail_skipped`,
    it never fails the import.

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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
