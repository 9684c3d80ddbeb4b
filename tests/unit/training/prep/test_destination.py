"""Where prepared data goes: a fresh folder, never old and new pairs mixed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pixserve.core.errors import DatasetError
from pixserve.training.layout import PairKind
from pixserve.training.prep import Destination

PIXELS = np.zeros((4, 4, 3), np.uint8)


def test_a_new_folder_is_made(tmp_path: Path) -> None:
    out = Destination.open(tmp_path / "a" / "b")
    assert out.root.is_dir() and out.format.extension == "png"
    out.write_pair(out.name_for(Path("x.jpg")), PIXELS, PIXELS, PairKind.FOLDERS)
    assert (tmp_path / "a" / "b" / "A" / "x.png").is_file()
    assert (tmp_path / "a" / "b" / "B" / "x.png").is_file()


def test_names_are_unique_and_numbered_in_order(tmp_path: Path) -> None:
    out = Destination.open(tmp_path / "out", "jpeg")
    got = [out.name_for(Path(p)) for p in ("a.png", "sub/a.jpg", "a-2.png", "b.png", "x/a.tif")]
    assert got == ["a.jpg", "a-2.jpg", "a-2-2.jpg", "b.jpg", "a-3.jpg"]


def test_a_non_empty_folder_is_refused_without_force(tmp_path: Path) -> None:
    (tmp_path / "old.png").write_bytes(b"x")
    with pytest.raises(DatasetError, match=r"is not empty; .* --force"):
        Destination.open(tmp_path)
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / ".DS_Store").write_bytes(b"x")
    Destination.open(hidden)  # hidden files alone do not count


def test_force_replaces_the_images_and_keeps_other_files(tmp_path: Path) -> None:
    for name in ("old.png", "A/old.jpg", "B/old.jpg"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("mine")
    Destination.open(tmp_path, force=True)
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert left == ["A", "B", "notes.txt"]


def test_force_refuses_images_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "x.png").write_bytes(b"x")
    (tmp_path / "y.png").write_bytes(b"x")
    with pytest.raises(DatasetError, match=r"images in subfolders \(train/x\.png, 1 in all\)"):
        Destination.open(tmp_path, force=True)
    assert (tmp_path / "y.png").exists()  # nothing deleted


def test_a_file_is_not_a_destination(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(DatasetError, match="is a file"):
        Destination.open(tmp_path / "f")


def test_the_two_sides_of_a_pair_must_match(tmp_path: Path) -> None:
    out = Destination.open(tmp_path / "o")
    with pytest.raises(ValueError, match="differ in size"):
        out.write_pair("x.png", PIXELS, PIXELS[:2], PairKind.ALIGNED)
