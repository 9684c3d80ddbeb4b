"""``dataset split``: a reproducible train/val(/test) split, by moving files into place.

The same files and seed always give the same split, whatever order the file system lists
them in: the files are sorted by name, then a permutation from ``numpy.random.default_rng(
seed)`` picks the validation (then test) share; the rest is training data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pixserve.core.errors import DatasetError
from pixserve.training.layout import PairKind, find_paired, list_images
from pixserve.training.prep.summary import Progress, SplitSummary, counted

_SPLITS = ("train", "val", "test")


def split_dataset(
    folder: Path,
    *,
    val: float = 0.2,
    test: float = 0.0,
    seed: int = 0,
    progress: Progress | None = None,
) -> SplitSummary:
    """Split the dataset in ``folder`` in place; files are moved, not copied.

    - flat images (aligned pairs or single images) → ``train/``, ``val/`` (``test/``);
    - ``A/`` + ``B/`` (matched by name) → ``train/A``, ``train/B``, ``val/A`` …, pairs kept
      together;
    - unaligned ``trainA/`` + ``trainB/`` → a share of each moves to ``valA/``, ``valB/``
      (``testA/``, ``testB/``); the sides are split independently.

    ``val`` and ``test`` are fractions (rounded to whole files); at least one file (or pair)
    stays in train. Raises :class:`DatasetError` when ``folder`` is missing, holds no
    images, or is split already.
    """
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise ValueError(f"val and test must be in [0, 1) and sum below 1, not {val} and {test}")
    if not folder.is_dir():
        reason = "is a file" if folder.exists() else "does not exist"
        raise DatasetError(f"{folder} {reason}; give the dataset folder to split")
    a_dir, b_dir = folder / "trainA", folder / "trainB"
    if a_dir.is_dir() or b_dir.is_dir():
        return _split_unaligned(folder, val, test, seed, progress)
    done = [name for name in _SPLITS if (folder / name).exists()]
    if done:
        raise DatasetError(f"{folder} is split already (it has {'/, '.join(done)}/)")
    if (folder / "A").is_dir() or (folder / "B").is_dir():
        return _split_pairs(folder, val, test, seed, progress)
    return _split_flat(folder, val, test, seed, progress)


def _split_pairs(
    folder: Path, val: float, test: float, seed: int, progress: Progress | None
) -> SplitSummary:
    try:
        pairs = find_paired(folder, "train", check=False)
    except DatasetError as exc:
        hint = "; unaligned sets (any names) belong in trainA/ and trainB/"
        raise DatasetError(exc.message + hint) from exc
    assert pairs.kind is PairKind.FOLDERS
    names = [(pair.a.name, pair.b.name) for pair in pairs if pair.b is not None]
    shares, notes = _shares(len(names), val, test, seed, "pair")
    moves = [
        (folder / side / name, folder / split / side / name)
        for split, picked in shares.items()
        for i in picked
        for side, name in zip(("A", "B"), names[i], strict=True)
    ]
    _move(moves, progress)
    for side in ("A", "B"):
        _remove_if_empty(folder / side)
    counts = {split: len(picked) for split, picked in shares.items()}
    return SplitSummary(folder, "pairs in A/ + B/", counts, notes)


def _split_flat(
    folder: Path, val: float, test: float, seed: int, progress: Progress | None
) -> SplitSummary:
    files = list_images(folder)
    if not files:
        raise DatasetError(
            f"{folder} holds no images to split (expected images, A/ + B/, or trainA/ + trainB/)"
        )
    shares, notes = _shares(len(files), val, test, seed, "image")
    moves = [
        (files[i], folder / split / files[i].name)
        for split, picked in shares.items()
        for i in picked
    ]
    _move(moves, progress)
    others = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    if others:
        notes = (*notes, f"left {counted(len(others), 'file')} not named like images in {folder}")
    counts = {split: len(picked) for split, picked in shares.items()}
    return SplitSummary(folder, "images", counts, notes)


def _split_unaligned(
    folder: Path, val: float, test: float, seed: int, progress: Progress | None
) -> SplitSummary:
    sides = ("A", "B")
    for side in sides:
        if not (folder / f"train{side}").is_dir():
            raise DatasetError(f"{folder} has train{'AB'.replace(side, '')}/ but no train{side}/")
    done = [
        f"{split}{side}"
        for split in ("val", "test")
        for side in sides
        if (folder / f"{split}{side}").exists()
    ]
    if done:
        raise DatasetError(f"{folder} is split already (it has {'/, '.join(done)}/)")
    moves: list[tuple[Path, Path]] = []
    counts: dict[str, int] = {}
    notes: list[str] = []
    for side in sides:
        files = list_images(folder / f"train{side}")
        if not files:
            raise DatasetError(f"{folder / f'train{side}'} holds no images")
        shares, side_notes = _shares(len(files), val, test, seed, f"train{side}/ image")
        notes += side_notes
        for split, picked in shares.items():
            counts[f"{split}{side}"] = len(picked)
            if split != "train":
                moves += [(files[i], folder / f"{split}{side}" / files[i].name) for i in picked]
    _move(moves, progress)
    return SplitSummary(folder, "unaligned trainA/ + trainB/", counts, tuple(notes))


def _shares(
    n: int, val: float, test: float, seed: int, what: str
) -> tuple[dict[str, list[int]], tuple[str, ...]]:
    """Indices (into the sorted files) for each split, and notes on tiny sets."""
    n_val = min(round(n * val), n - 1)
    n_test = min(round(n * test), n - 1 - n_val)
    order = np.random.default_rng(seed).permutation(n).tolist()
    shares = {
        "train": sorted(order[n_val + n_test :]),
        "val": sorted(order[:n_val]),
    }
    if test > 0:
        shares["test"] = sorted(order[n_val : n_val + n_test])
    notes = tuple(
        f"only {counted(n, what)}: {split} got none"
        for split, fraction, count in (("val", val, n_val), ("test", test, n_test))
        if fraction > 0 and count == 0
    )
    return shares, notes


def _move(moves: Sequence[tuple[Path, Path]], progress: Progress | None) -> None:
    # Every target is checked before anything moves, so a clash leaves the folder untouched.
    clashes = [target for _, target in moves if target.exists()]
    if clashes:
        raise DatasetError(f"{clashes[0]} exists already; nothing was moved")
    if progress is not None:
        progress(0, len(moves))
    for done, (source, target) in enumerate(moves, start=1):
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            source.rename(target)
        except OSError as exc:
            raise DatasetError(f"cannot move {source} to {target}: {exc.strerror or exc}") from exc
        if progress is not None:
            progress(done, len(moves))


def _remove_if_empty(folder: Path) -> None:
    if not any(folder.iterdir()):
        folder.rmdir()
