"""Writing a ``kind = "onnx"`` style bundle: ``style.toml``, the model, ``config.json``."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pixserve.core.errors import BundleError
from pixserve.pipeline.bundle import NAME_PATTERN, load_bundle
from pixserve.pipeline.style import Style

MODEL_FILE = "model.onnx"
CONFIG_FILE = "config.json"


@dataclass
class BundleSpec:
    """What goes into ``style.toml`` (and ``config.json``) of an imported style."""

    name: str
    title: str
    description: str
    range: str
    layout: str = "NCHW"
    channels: str = "RGB"
    size_multiple: int = 1
    scale: int = 1
    tile: int = 0
    tile_overlap: int = 0
    max_side: int = 1024
    fast: bool = False
    config: dict[str, Any] = field(default_factory=dict)
    notice: str | None = None

    def toml(self) -> str:
        """The manifest text."""
        lines = [
            f"name = {_q(self.name)}",
            f"title = {_q(self.title)}",
            f"description = {_q(self.description)}",
            'kind = "onnx"',
            f"fast = {str(self.fast).lower()}",
            "",
            "[model]",
            f"file = {_q(MODEL_FILE)}",
            f"range = {_q(self.range)}",
            f"layout = {_q(self.layout)}",
            f"channels = {_q(self.channels)}",
            f"size_multiple = {self.size_multiple}",
            f"scale = {self.scale}",
        ]
        if self.tile:
            lines += [f"tile = {self.tile}", f"tile_overlap = {self.tile_overlap}"]
        lines += ["", "[pipeline]", f"max_side = {self.max_side}", ""]
        return "\n".join(lines)


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a TOML basic string is a JSON string


def check_name(name: str) -> None:
    """Raise :class:`BundleError` unless ``name`` is a valid style name."""
    if not NAME_PATTERN.fullmatch(name):
        raise BundleError(
            f"--name {name!r}: use 1-48 lowercase letters, digits or '-', not starting with '-'"
        )


def write_bundle(root: Path, spec: BundleSpec, model: Path, *, force: bool = False) -> Style:
    """Write ``root/<name>/`` from ``spec`` and the ONNX file ``model``; return it loaded.

    The bundle is assembled in a temporary folder and renamed into place, so a failed
    import never leaves half a bundle. An existing bundle is replaced only with ``force``.
    """
    check_name(spec.name)
    target = root / spec.name
    if target.exists() and not force:
        raise BundleError(f"{target} already exists (use --force to replace it)")
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{spec.name}.importing"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        shutil.copyfile(model, staging / MODEL_FILE)
        (staging / "style.toml").write_text(spec.toml(), encoding="utf-8")
        (staging / CONFIG_FILE).write_text(json.dumps(spec.config, indent=2) + "\n")
        if spec.notice:
            (staging / "NOTICE.txt").write_text(spec.notice, encoding="utf-8")
        load_bundle(staging)  # the manifest we wrote must be one pixserve accepts
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return load_bundle(target)
