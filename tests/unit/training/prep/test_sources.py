"""Finding and reading source photos: recursive, sorted, hidden files left out, bad SRC refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pixserve.core.errors import DatasetError, NoFaceFound
from pixserve.training.prep import each_photo, find_sources
from tests.support.datasets import noise, save


def test_sources_are_found_below_src_in_a_stable_order(tmp_path: Path) -> None:
    for name in ("b.png", "a/z.jpg", "a/b/y.PNG", ".hidden.png", ".cache/x.png", "dst/old.png"):
        save(tmp_path / name, noise(4, 4))
    (tmp_path / "readme.txt").write_text("x")
    found = find_sources(tmp_path, exclude=tmp_path / "dst")
    got = [str(p.relative_to(tmp_path)) for p in found.files]
    assert got == ["a/b/y.PNG", "a/z.jpg", "b.png"]
    assert found.ignored == 1


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "does not exist"),
        ("file", "is a file"),
        ("empty", r"holds no images \(bmp, jpeg, jpg, png, tif, tiff, webp\)"),
        ("text", "holds no images"),
    ],
)
def test_bad_sources_are_refused(tmp_path: Path, setup: str, message: str) -> None:
    src = tmp_path / "src"
    if setup == "file":
        src.write_text("x")
    elif setup != "missing":
        src.mkdir()
        if setup == "text":
            (src / "a.txt").write_text("x")
    with pytest.raises(DatasetError, match=message) as caught:
        find_sources(src)
    assert caught.value.code == "invalid_dataset"


def test_writing_into_the_source_folder_is_refused(tmp_path: Path) -> None:
    save(tmp_path / "sub" / "a.png", noise(4, 4))
    for src in (tmp_path / "sub" / "..", tmp_path / "sub"):  # SRC is DST, or below it
        with pytest.raises(DatasetError, match="would hold the photos"):
            find_sources(src, exclude=tmp_path)


def test_each_photo_reads_hands_over_and_skips(tmp_path: Path) -> None:
    save(tmp_path / "a.png", noise(6, 4))
    save(tmp_path / "b.png", noise(6, 4))
    (tmp_path / "c.png").write_text("x")
    handled: list[tuple[str, tuple[int, ...]]] = []

    def handle(path: Path, pixels: np.ndarray) -> None:
        if path.name == "b.png":
            raise NoFaceFound("no face here")
        handled.append((path.name, pixels.shape))

    skipped = each_photo(find_sources(tmp_path), handle)
    assert handled == [("a.png", (4, 6, 3))]
    assert (skipped[0].path.name, skipped[0].reason) == ("b.png", "no face here")
    assert skipped[1].path.name == "c.png" and "not an image" in skipped[1].reason


def test_a_failing_destination_stops_the_run(tmp_path: Path) -> None:
    save(tmp_path / "a.png", noise(4, 4))
    save(tmp_path / "b.png", noise(4, 4))
    calls = []

    def handle(path: Path, pixels: np.ndarray) -> None:
        calls.append(path)
        raise DatasetError("cannot write: disk full")

    with pytest.raises(DatasetError, match="disk full"):
        each_photo(find_sources(tmp_path), handle)
    assert len(calls) == 1
