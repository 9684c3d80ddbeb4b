"""What every ``style.toml`` table shares: its pydantic config, and files inside the bundle.

A table refuses unknown keys, keeps the types TOML gives (``strict``: ``"3"`` is not an
integer, ``1`` is not ``true``) and is frozen. A file a table names (the model, a watermark
image) is validated against the bundle folder passed as ``context={BUNDLE: folder}``: it
becomes an absolute path that must stay inside the folder and exist; serialised with the
same context it becomes relative again. Without a context (a spec built in code) the path
is kept as given.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict, SerializationInfo, ValidationInfo

TABLE = ConfigDict(frozen=True, extra="forbid", strict=True)

#: The validation and serialisation context key holding the bundle folder.
BUNDLE = "bundle"


def bundle_folder(info: ValidationInfo | SerializationInfo) -> Path | None:
    """The bundle folder this validation or serialisation is for, if any."""
    context = info.context
    folder = context.get(BUNDLE) if isinstance(context, dict) else None
    return Path(folder) if folder is not None else None


class InBundle:
    """After-validator of a file name: resolved inside the bundle folder, and existing.

    ``what`` names the file in messages (``"model file"``).
    """

    def __init__(self, what: str) -> None:
        self.what = what

    def __call__(self, name: Path, info: ValidationInfo) -> Path:
        """``name`` resolved in the bundle; ``ValueError`` if it leaves it or is missing."""
        folder = bundle_folder(info)
        if folder is None:
            return name
        path = (folder / name).resolve()
        if not path.is_relative_to(folder.resolve()):
            raise ValueError(f"{str(name)!r} must be inside the bundle folder")
        if not path.is_file():
            raise ValueError(f"{self.what} {str(name)!r} not found in {folder}")
        return path


def relative_to_bundle(path: Path, info: SerializationInfo) -> str:
    """Serialiser of a bundle file: its name relative to the bundle folder, with ``/``."""
    folder = bundle_folder(info)
    if folder is not None and path.is_absolute():
        path = path.relative_to(folder.resolve())
    return path.as_posix()
