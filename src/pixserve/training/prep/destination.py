"""Where a preparation command writes: a fresh folder, unique names, one image format."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import numpy as np

from pixserve.core.errors import DatasetError
from pixserve.imaging import encode_image
from pixserve.training.layout import PairKind, is_image_file

#: JPEG quality of written images: high enough that training data carries few artefacts.
JPEG_QUALITY = 95


class OutputFormat(StrEnum):
    """The format of written images: PNG (lossless, the default) or JPEG (quality 95)."""

    PNG = "png"
    JPEG = "jpeg"

    @property
    def extension(self) -> str:
        """The file name extension, without the dot."""
        return "jpg" if self is OutputFormat.JPEG else "png"


class Destination:
    """A folder that holds only what this run writes, so old and new pairs never mix.

    Made with :meth:`open`. Output names are the source stems, numbered (``name-2``) when
    two sources share one; sources come in a fixed order, so the numbering is stable.
    """

    def __init__(self, root: Path, fmt: OutputFormat | str = OutputFormat.PNG) -> None:
        self.root = root
        self.format = OutputFormat(fmt)
        self._taken: set[str] = set()

    @classmethod
    def open(
        cls, root: Path, fmt: OutputFormat | str = OutputFormat.PNG, *, force: bool = False
    ) -> Destination:
        """Create ``root``, refusing one that is not empty unless ``force``.

        With ``force``, the images left by an earlier run (directly in ``root`` and in its
        ``A/`` and ``B/``) are deleted first; other files are left alone, and images anywhere
        else below ``root`` (e.g. an earlier ``split``) make it refuse rather than guess.
        """
        if root.exists() and not root.is_dir():
            raise DatasetError(f"{root} is a file; give a folder to write the dataset into")
        if root.is_dir() and any(not p.name.startswith(".") for p in root.iterdir()):
            if not force:
                raise DatasetError(
                    f"{root} is not empty; choose a new folder, or pass --force to replace"
                    " the images in it"
                )
            _clear_images(root)
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatasetError(f"cannot create {root}: {exc.strerror or exc}") from exc
        return cls(root, fmt)

    def name_for(self, source: Path) -> str:
        """A file name (with extension) for the output of ``source``, unique in this run."""
        stem, n = source.stem, 2
        while stem in self._taken:
            stem = f"{source.stem}-{n}"
            n += 1
        self._taken.add(stem)
        return f"{stem}.{self.format.extension}"

    def write_image(self, name: str, pixels: np.ndarray) -> Path:
        """Write ``pixels`` (RGB uint8) as ``root/name``."""
        return self._write(self.root / name, pixels)

    def write_pair(self, name: str, a: np.ndarray, b: np.ndarray, layout: PairKind) -> None:
        """Write a pair of same-size images as one A|B image, or as ``A/name`` + ``B/name``."""
        if a.shape != b.shape:
            raise ValueError(f"the two sides of a pair differ in size: {a.shape} vs {b.shape}")
        if layout is PairKind.ALIGNED:
            self._write(self.root / name, np.concatenate([a, b], axis=1))
        else:
            self._write(self.root / "A" / name, a)
            self._write(self.root / "B" / name, b)

    def _write(self, path: Path, pixels: np.ndarray) -> Path:
        body = encode_image(pixels, self.format.value, quality=JPEG_QUALITY)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
        except OSError as exc:
            raise DatasetError(f"cannot write {path}: {exc.strerror or exc}") from exc
        return path


def _clear_images(root: Path) -> None:
    ours = [root, root / "A", root / "B"]
    doomed = [p for folder in ours if folder.is_dir() for p in _images(folder)]
    elsewhere = [
        p for p in root.rglob("*") if p.parent not in ours and is_image_file(p) and p.is_file()
    ]
    if elsewhere:
        where = elsewhere[0].relative_to(root)
        raise DatasetError(
            f"{root} holds images in subfolders ({where}, {len(elsewhere)} in all) that"
            " --force does not replace; remove them yourself or choose a new folder"
        )
    for path in doomed:
        path.unlink()


def _images(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if is_image_file(p) and p.is_file()]
