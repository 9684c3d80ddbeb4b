"""The on-disk dataset layouts, found and checked: what the trainers' data loaders read.

A dataset folder ``DATA`` holds splits (``train``, ``val``, ``test``). A split ``S`` is:

- ``DATA/S/`` holding images directly: **aligned pairs** (A|B side by side in one image, as
  pix2pix's ``combine_A_and_B.py`` writes them; the width must be even) for
  :func:`find_paired`, or **single images** for :func:`find_images`;
- ``DATA/S/A/`` + ``DATA/S/B/``: **two folders matched by file name** (the stem; the
  extension may differ), each pair the same size;
- ``DATA/SA/`` + ``DATA/SB/`` (``trainA/``, ``trainB/``, ``valA/`` …): **unaligned** sets of
  any sizes, for :func:`find_unaligned` (which also takes ``DATA/S/A/`` + ``DATA/S/B/``,
  ignoring the names).

When nothing in ``DATA`` is called ``train…``, ``DATA`` itself is the train split (flat
images, or ``A/`` + ``B/``). A missing ``val`` split is an empty set (the caller decides);
any other missing split is a :class:`~pixserve.core.errors.DatasetError`.

Images are ``jpg jpeg png webp bmp tif tiff`` files (any case), hidden files are ignored, and
every listing is sorted by name, so the same folder always gives the same order. With
``check`` (the default) every image's header is read up front, so a text file called
``.jpg``, an odd-width aligned image or a pair of different sizes is refused before training
starts, with the files named.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

import numpy as np

from pixserve.core.errors import DatasetError, PixserveError
from pixserve.imaging import decode_image, read_size

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "SPLITS",
    "Pair",
    "PairKind",
    "PairedSet",
    "UnalignedSet",
    "decode_file",
    "find_images",
    "find_paired",
    "find_unaligned",
    "is_image_file",
    "list_images",
    "read_image",
    "read_pair",
    "split_aligned",
]

#: File name suffixes counted as images (compared in lower case).
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"})
#: The split names a dataset may hold.
SPLITS = ("train", "val", "test")
#: Limits for reading dataset images: generous, since these are the user's own files.
MAX_IMAGE_BYTES = 512 * 2**20
MAX_IMAGE_PIXELS = 200_000_000

_SHOWN = 5  # problems listed by name in one error message; the rest are counted
_HEADER_BYTES = 64 * 1024  # enough for nearly every image header; else the whole file


class PairKind(StrEnum):
    """How a split stores its pairs."""

    ALIGNED = "aligned"  # one image per pair, A on the left half, B on the right
    FOLDERS = "folders"  # A/ and B/ folders, matched by file name


class Pair(NamedTuple):
    """One training pair: ``a`` and ``b`` files, or an aligned A|B image ``a`` and ``b=None``."""

    a: Path
    b: Path | None


@dataclass(frozen=True)
class PairedSet:
    """The pairs of one split, in name order; ``folder`` is the split's folder."""

    kind: PairKind
    folder: Path
    items: tuple[Pair, ...]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Pair]:
        return iter(self.items)

    def __getitem__(self, index: int) -> Pair:
        return self.items[index]


@dataclass(frozen=True)
class UnalignedSet:
    """Two unrelated sets of images (domain A and domain B), each in name order."""

    a_files: tuple[Path, ...]
    b_files: tuple[Path, ...]

    def __len__(self) -> int:
        """The larger side: what one epoch over both sets visits (as CycleGAN counts it)."""
        return max(len(self.a_files), len(self.b_files))


def is_image_file(path: Path) -> bool:
    """Whether ``path`` is named like an image pixserve reads and is not hidden."""
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def list_images(folder: Path) -> list[Path]:
    """The image files directly in ``folder`` (not below it), sorted by name."""
    return sorted(
        (p for p in folder.iterdir() if is_image_file(p) and p.is_file()), key=lambda p: p.name
    )


def find_paired(data: Path | str, split: str = "train", *, check: bool = True) -> PairedSet:
    """The pairs of ``split`` in ``data``: aligned A|B images or ``A/`` + ``B/`` folders.

    Raises :class:`DatasetError` for a missing split (``val``: an empty set of kind
    ``aligned``), an empty folder, names found on one side only, and, with ``check``, files
    that are not images, odd-width aligned images and pairs whose sizes differ.
    """
    folder = _split_folder(Path(data), split, required=split != "val")
    if folder is None:
        return PairedSet(PairKind.ALIGNED, Path(data) / split, ())
    sides = _ab_folders(folder)
    if sides is not None:
        items = _match_by_name(folder, *sides)
        if check:
            _check_pair_sizes(folder, items)
        return PairedSet(PairKind.FOLDERS, folder, tuple(items))
    files = _images_in(folder, "aligned pairs (A|B side by side) or A/ and B/ folders")
    if check:
        _check_aligned(folder, files)
    return PairedSet(PairKind.ALIGNED, folder, tuple(Pair(f, None) for f in files))


def find_unaligned(data: Path | str, split: str = "train", *, check: bool = True) -> UnalignedSet:
    """The two unaligned sets of ``split``: ``data/{split}A`` + ``data/{split}B``, or
    ``data/{split}/A`` + ``data/{split}/B`` (names need not match; sizes may differ).

    A missing ``val`` split gives an empty set; anything else missing, an empty side, or
    (with ``check``) a file that is not an image raises :class:`DatasetError`.
    """
    data = Path(data)
    a_dir, b_dir = data / f"{split}A", data / f"{split}B"
    if not a_dir.is_dir() and not b_dir.is_dir():
        folder = _split_folder(data, split, required=False)
        sides = _ab_folders(folder) if folder is not None else None
        if sides is None:
            if folder is None and split == "val":
                return UnalignedSet((), ())
            raise DatasetError(
                f"{data} has no unaligned {split} split: expected {split}A/ and {split}B/"
                f" folders (or {split}/A/ and {split}/B/)"
            )
        a_dir, b_dir = sides
    for present, missing in ((a_dir, b_dir), (b_dir, a_dir)):
        if not missing.is_dir():
            raise DatasetError(f"{data} has {present.name}/ but no {missing.name}/")
    sets = []
    for side in (a_dir, b_dir):
        files = _images_in(side, "images")
        if check:
            _check_readable(side, files)
        sets.append(tuple(files))
    return UnalignedSet(sets[0], sets[1])


def find_images(data: Path | str, split: str = "train", *, check: bool = True) -> list[Path]:
    """The single images of ``split`` (any sizes), e.g. content photos for fast-style.

    A missing ``val`` split gives an empty list; anything else missing, a folder with no
    images or (with ``check``) a file that is not an image raises :class:`DatasetError`.
    """
    folder = _split_folder(Path(data), split, required=split != "val")
    if folder is None:
        return []
    files = _images_in(folder, "images")
    if check:
        _check_readable(folder, files)
    return files


def decode_file(path: Path) -> np.ndarray:
    """The upright RGB uint8 ``(H, W, 3)`` pixels of an image file (EXIF orientation applied).

    Raises pixserve's image errors (``UnsupportedImage``, ``CorruptImage``, ``ImageTooLarge``)
    or ``OSError``, for callers that report a file and go on.
    """
    return decode_image(
        path.read_bytes(), max_bytes=MAX_IMAGE_BYTES, max_pixels=MAX_IMAGE_PIXELS
    ).pixels


def read_image(path: Path) -> np.ndarray:
    """The RGB uint8 ``(H, W, 3)`` pixels of ``path``; :class:`DatasetError` naming it if not."""
    try:
        return decode_file(path)
    except PixserveError as exc:
        raise DatasetError(f"{path}: {exc.message}") from exc
    except OSError as exc:
        raise DatasetError(f"{path}: {exc.strerror or exc}") from exc


def split_aligned(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The left (A) and right (B) halves of an aligned pair; ``ValueError`` for an odd width."""
    width = pixels.shape[1]
    if width % 2:
        raise ValueError(f"an aligned pair needs an even width, not {width}")
    half = width // 2
    return np.ascontiguousarray(pixels[:, :half]), np.ascontiguousarray(pixels[:, half:])


def read_pair(item: Pair) -> tuple[np.ndarray, np.ndarray]:
    """The A and B images of ``item`` as RGB uint8 arrays of the same shape.

    Raises :class:`DatasetError` naming the file(s) for an unreadable image, an odd-width
    aligned image or two files of different sizes.
    """
    first = read_image(item.a)
    if item.b is None:
        try:
            return split_aligned(first)
        except ValueError:
            raise DatasetError(
                f"{item.a}: width {first.shape[1]} is odd; an aligned pair is A|B side by side"
            ) from None
    second = read_image(item.b)
    if first.shape != second.shape:
        raise DatasetError(
            f"{item.a} is {_wxh(first.shape)} but {item.b} is {_wxh(second.shape)};"
            " the two images of a pair must be the same size"
        )
    return first, second


def _split_folder(data: Path, split: str, *, required: bool) -> Path | None:
    """The folder holding ``split``, or None when it is missing and not ``required``."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    if not data.exists():
        raise DatasetError(f"{data} does not exist")
    if not data.is_dir():
        raise DatasetError(f"{data} is a file, not a dataset folder")
    folder = data / split
    if folder.is_dir():
        return folder
    if split == "train" and not any(p.name.startswith("train") for p in data.iterdir()):
        return data  # a folder that was never split: all of it is training data
    if required:
        raise DatasetError(f"{data} has no {split} split (no {split}/ folder)")
    return None


def _ab_folders(folder: Path) -> tuple[Path, Path] | None:
    a_dir, b_dir = folder / "A", folder / "B"
    if a_dir.is_dir() and b_dir.is_dir():
        return a_dir, b_dir
    if a_dir.is_dir() or b_dir.is_dir():
        present, missing = ("A", "B") if a_dir.is_dir() else ("B", "A")
        raise DatasetError(f"{folder} has {present}/ but no {missing}/")
    return None


def _images_in(folder: Path, expected: str) -> list[Path]:
    files = list_images(folder)
    if not files:
        raise DatasetError(f"{folder} holds no images (expected {expected})")
    return files


def _match_by_name(folder: Path, a_dir: Path, b_dir: Path) -> list[Pair]:
    a_files, b_files = _by_stem(a_dir), _by_stem(b_dir)
    only_a = sorted(a_files.keys() - b_files.keys())
    only_b = sorted(b_files.keys() - a_files.keys())
    if only_a or only_b:
        parts = [
            f"only in {side}/: {_listing([files[s].name for s in stems])}"
            for side, files, stems in (("A", a_files, only_a), ("B", b_files, only_b))
            if stems
        ]
        raise DatasetError(
            f"A/ and B/ in {folder} do not pair up by file name; " + "; ".join(parts)
        )
    return [Pair(a_files[stem], b_files[stem]) for stem in sorted(a_files)]


def _by_stem(side: Path) -> dict[str, Path]:
    files = _images_in(side, "images named like their partners in the other folder")
    found: dict[str, list[Path]] = {}
    for path in files:
        found.setdefault(path.stem, []).append(path)
    clashes = [" and ".join(p.name for p in paths) for paths in found.values() if len(paths) > 1]
    if clashes:
        raise DatasetError(
            f"{side} has files that differ only in their extension, so their partners are"
            f" ambiguous: {_listing(clashes)}"
        )
    return {stem: paths[0] for stem, paths in found.items()}


def _check_readable(folder: Path, files: Sequence[Path]) -> None:
    problems = []
    for path in files:
        size = _header_size(path)
        if isinstance(size, str):
            problems.append(f"{path.name}: {size}")
    _raise_problems(folder, problems, "not readable as images")


def _check_aligned(folder: Path, files: Sequence[Path]) -> None:
    problems = []
    for path in files:
        size = _header_size(path)
        if isinstance(size, str):
            problems.append(f"{path.name}: {size}")
        elif size[0] % 2:
            problems.append(f"{path.name}: {size[0]}x{size[1]}, an odd width")
    _raise_problems(folder, problems, "not usable as aligned pairs (A|B side by side)")


def _check_pair_sizes(folder: Path, items: Sequence[Pair]) -> None:
    problems = []
    for a, b in items:
        assert b is not None
        a_size, b_size = _header_size(a), _header_size(b)
        for path, size in ((a, a_size), (b, b_size)):
            if isinstance(size, str):
                problems.append(f"{path.parent.name}/{path.name}: {size}")
        if isinstance(a_size, tuple) and isinstance(b_size, tuple) and a_size != b_size:
            problems.append(
                f"A/{a.name} is {a_size[0]}x{a_size[1]} but B/{b.name} is {b_size[0]}x{b_size[1]}"
            )
    _raise_problems(folder, problems, "not usable as pairs (two images of one size)")


def _header_size(path: Path) -> tuple[int, int] | str:
    """The upright (width, height) from the header, or why the file is not an image."""
    try:
        with path.open("rb") as f:
            head = f.read(_HEADER_BYTES)
            whole = len(head) < _HEADER_BYTES
        try:
            return read_size(head)
        except PixserveError:
            if whole:
                raise
            return read_size(path.read_bytes())  # a header longer than the first bytes
    except PixserveError as exc:
        return exc.message
    except OSError as exc:
        return exc.strerror or str(exc)


def _raise_problems(folder: Path, problems: Sequence[str], what: str) -> None:
    if problems:
        noun = "file" if len(problems) == 1 else "files"
        raise DatasetError(f"{folder}: {len(problems)} {noun} {what}: {_listing(problems)}")


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_SHOWN])
    more = len(names) - _SHOWN
    return f"{shown} (and {more} more)" if more > 0 else shown


def _wxh(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}x{shape[0]}"
