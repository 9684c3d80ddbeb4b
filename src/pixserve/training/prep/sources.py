"""The source photos of a preparation command: found under SRC, read, handed over in turn."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pixserve.core.errors import DatasetError, PixserveError
from pixserve.training.layout import IMAGE_SUFFIXES, decode_file, is_image_file
from pixserve.training.prep.summary import PrepSummary, Progress, Skipped, counted


@dataclass(frozen=True)
class Sources:
    """The images under ``root`` (its subfolders too), sorted by their path below it;
    ``ignored`` counts the other, non-hidden files that are not named like images."""

    root: Path
    files: tuple[Path, ...]
    ignored: int = 0


def find_sources(src: Path, *, exclude: Path | None = None) -> Sources:
    """Every image file under ``src``, recursively; hidden files and folders are left out, as
    is ``exclude`` (the destination, when it lies inside ``src``).

    Raises :class:`DatasetError` when ``src`` is missing, is a file, or holds no images.
    """
    if not src.exists():
        raise DatasetError(f"{src} does not exist")
    if not src.is_dir():
        raise DatasetError(f"{src} is a file; give the folder that holds the photos")
    skip = exclude.resolve() if exclude is not None else None
    if skip is not None and src.resolve().is_relative_to(skip):
        raise DatasetError(f"{exclude} would hold the photos of {src}; write somewhere else")
    files, ignored = [], 0
    for path in sorted(src.rglob("*"), key=lambda p: p.relative_to(src).parts):
        parts = path.relative_to(src).parts
        if any(part.startswith(".") for part in parts) or not path.is_file():
            continue
        if skip is not None and path.resolve().is_relative_to(skip):
            continue
        if is_image_file(path):
            files.append(path)
        else:
            ignored += 1
    if not files:
        kinds = ", ".join(sorted(s.lstrip(".") for s in IMAGE_SUFFIXES))
        raise DatasetError(f"{src} holds no images ({kinds}), in it or below it")
    return Sources(src, tuple(files), ignored)


def each_photo(
    sources: Sources,
    handle: Callable[[Path, np.ndarray], None],
    progress: Progress | None = None,
) -> list[Skipped]:
    """Read each source photo (upright RGB) and pass it to ``handle``; return the skipped ones.

    A file that cannot be read, or for which ``handle`` raises a :class:`PixserveError`
    (no face, a teacher that refuses it), is skipped with the error's message as the
    reason; a :class:`DatasetError` from ``handle`` (the destination failed) stops the run.
    Raises :class:`DatasetError` when not one file could be read.
    """
    skipped: list[Skipped] = []
    unreadable = 0
    total = len(sources.files)
    if progress is not None:
        progress(0, total)
    for done, path in enumerate(sources.files, start=1):
        try:
            pixels = decode_file(path)
        except PixserveError as exc:
            unreadable += 1
            skipped.append(Skipped(path, exc.message))
        except OSError as exc:
            unreadable += 1
            skipped.append(Skipped(path, exc.strerror or str(exc)))
        else:
            try:
                handle(path, pixels)
            except DatasetError:
                raise  # the destination failed: stop, do not skip every file after it
            except PixserveError as exc:
                skipped.append(Skipped(path, exc.message))
        if progress is not None:
            progress(done, total)
    if unreadable == total:
        raise DatasetError(
            f"none of the {total} image files in {sources.root} could be read ({_first(skipped)})"
        )
    return skipped


def summarize(
    sources: Sources, dst: Path, skipped: Sequence[Skipped], notes: Sequence[str] = ()
) -> PrepSummary:
    """The summary of a run over ``sources``: every source not skipped was written."""
    n = sources.ignored
    extra = [f"ignored {counted(n, 'file')} not named like images"] * bool(n)
    return PrepSummary(
        dst=dst,
        seen=len(sources.files),
        written=len(sources.files) - len(skipped),
        skipped=tuple(skipped),
        notes=(*notes, *extra),
    )


def _first(skipped: Sequence[Skipped]) -> str:
    first = skipped[0]
    more = f"; and {len(skipped) - 1} more" if len(skipped) > 1 else ""
    return f"{first.path.name}: {first.reason}{more}"
