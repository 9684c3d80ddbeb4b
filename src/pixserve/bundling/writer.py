"""Writing a style bundle: ``style.toml`` from a manifest, the model, ``config.json``,
``NOTICE.txt`` and ``thumbnail.jpg``, all at once or not at all.

Torch-free. The manifest text comes from :func:`pixserve.pipeline.manifest_toml`, the same
models the reader checks against, and the staged bundle is loaded back before it is moved
into place, so what is written is what pixserve serves.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from pixserve.bundling.probe import round_up
from pixserve.bundling.thumbnail import write_thumbnail
from pixserve.core.errors import BundleError
from pixserve.core.tensor_io import TensorIO
from pixserve.pipeline import Style, load_bundle
from pixserve.pipeline.bundle import MANIFEST
from pixserve.pipeline.manifest import (
    NAME_PATTERN,
    NAME_RULE,
    OnnxManifest,
    StyleManifest,
    manifest_toml,
)
from pixserve.pipeline.manifest_errors import problems

CONFIG_FILE = "config.json"
NOTICE_FILE = "NOTICE.txt"


@dataclass(frozen=True)
class WrittenBundle:
    """A bundle in place: the style as pixserve loads it, and why it has no thumbnail."""

    style: Style
    #: Why no ``thumbnail.jpg`` was written (a style needing a face the sample lacks …);
    #: None when one was (it is ``style.thumbnail``) or none was asked for.
    thumbnail_skipped: str | None = None


def check_name(name: str) -> None:
    """Raise :class:`BundleError` unless ``name`` is a valid style name."""
    if not NAME_PATTERN.fullmatch(name):
        raise BundleError(f"--name {name!r}: use {NAME_RULE}")


def onnx_manifest(
    io: TensorIO,
    *,
    name: str,
    title: str | None = None,
    description: str | None = None,
    max_side: int | None = None,
    tile: int | None = None,
    tile_overlap: int | None = None,
    fast: bool | None = None,
    face: bool | None = None,
) -> OnnxManifest:
    """The manifest of an imported ONNX model whose tensors follow ``io``.

    A key left None takes the format's default (``max_side`` 1024, no tiles …). ``tile``
    is rounded up to a multiple of ``io.size_multiple``. A bad name, or a value the format
    does not allow (a tile under 32, an overlap of half a tile …), is a
    :class:`BundleError` naming the key.
    """
    check_name(name)
    if tile:
        tile = round_up(tile, io.size_multiple)
    data = {
        "name": name,
        "title": title,
        **_given(description=description, fast=fast),
        "model": io.convention() | _given(tile=tile, tile_overlap=tile_overlap),
        "pipeline": _given(max_side=max_side, face=face),
    }
    try:
        return OnnxManifest.model_validate(data)
    except ValidationError as exc:
        raise BundleError(f"style {name!r}: {'; '.join(problems(exc, OnnxManifest))}") from exc


def _given(**values: Any) -> dict[str, Any]:
    """The values that are not None; the format's defaults stand for the others."""
    return {key: value for key, value in values.items() if value is not None}


def write_bundle(
    root: Path,
    manifest: StyleManifest,
    *,
    model: Path | None = None,
    config: Mapping[str, Any] | None = None,
    notice: str | None = None,
    thumbnail: bool = True,
    sample: np.ndarray | None = None,
    force: bool = False,
) -> WrittenBundle:
    """Write ``root/<manifest.name>/`` and return it loaded.

    ``manifest`` names its files relative to the bundle (as when built in code). ``model``
    is copied to the ``[model] file`` of an ONNX manifest; ``config`` becomes
    ``config.json`` and ``notice`` ``NOTICE.txt``. With ``thumbnail``, the new style's own
    pipeline renders ``thumbnail.jpg`` from ``sample`` (RGB uint8; default: the photo that
    ships with pixserve); a rendering that fails (no face in the sample, say) leaves the
    bundle without one and says why in :attr:`WrittenBundle.thumbnail_skipped`.

    The bundle is assembled in a hidden folder beside it and renamed into place, so a
    failure never leaves half a bundle. An existing bundle is replaced only with ``force``.
    """
    check_name(manifest.name)
    target = root / manifest.name
    if target.exists() and not force:
        raise BundleError(f"{target} already exists (use --force to replace it)")
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{manifest.name}.importing"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    skipped = None
    try:
        if isinstance(manifest, OnnxManifest):
            if model is None:
                raise BundleError(f"style {manifest.name!r}: an ONNX style needs its model file")
            copy = staging / manifest.model.path
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(model, copy)
        (staging / MANIFEST).write_text(manifest_toml(manifest), encoding="utf-8")
        if config is not None:
            (staging / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
        if notice:
            (staging / NOTICE_FILE).write_text(notice, encoding="utf-8")
        staged = load_bundle(staging)  # what we wrote must be what pixserve accepts
        if thumbnail:
            skipped = write_thumbnail(staged, sample)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return WrittenBundle(load_bundle(target), skipped)
