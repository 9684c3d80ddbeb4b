"""Writing style bundles into temporary folders for tests."""

from __future__ import annotations

from pathlib import Path


def write_bundle(root: Path, folder: str, toml: str, model: Path | None = None) -> Path:
    """Create ``root/folder/style.toml`` (and copy ``model`` in as model.onnx)."""
    bundle = root / folder
    bundle.mkdir(parents=True, exist_ok=True)
    (bundle / "style.toml").write_text(toml, encoding="utf-8")
    if model is not None:
        (bundle / "model.onnx").write_bytes(model.read_bytes())
    return bundle


def builtin_toml(name: str, operator: str = "cartoon", extra: str = "") -> str:
    """A minimal valid manifest of a builtin style."""
    return f'name = "{name}"\nkind = "builtin"\n{extra}\n[builtin]\noperator = "{operator}"\n'


def onnx_toml(name: str, model: str = "", pipeline: str = "") -> str:
    """A minimal manifest of an ONNX style; ``model`` lines go into [model]."""
    return (
        f'name = "{name}"\nkind = "onnx"\n[model]\nfile = "model.onnx"\n{model}\n'
        f"[pipeline]\n{pipeline}\n"
    )
