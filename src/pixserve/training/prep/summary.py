"""What a preparation command did: counts, skipped files and why, notes for the user."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: Called with (files done, files in all) once before the first file and after each one.
Progress = Callable[[int, int], None]


def counted(n: int, noun: str) -> str:
    """``n`` and the noun, plural unless n is 1: ``counted(1, "file")`` is ``"1 file"``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass(frozen=True)
class Skipped:
    """A source file that produced nothing, and why (one line, for people)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class PrepSummary:
    """The outcome of ``faces``, ``sketch`` or ``pairs``: ``written`` of ``seen`` source
    images became output in ``dst``; the others are in ``skipped``. ``notes`` are remarks
    worth one line each (e.g. "outputs resized back to their input's size")."""

    dst: Path
    seen: int
    written: int
    skipped: tuple[Skipped, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SplitSummary:
    """The outcome of ``split``: the ``layout`` it found and the files (or pairs) now in
    each folder, e.g. ``{"train": 80, "val": 20}`` or ``{"trainA": 8, "valA": 2, ...}``."""

    folder: Path
    layout: str
    counts: dict[str, int]
    notes: tuple[str, ...] = ()
