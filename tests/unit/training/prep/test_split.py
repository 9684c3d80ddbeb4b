"""``dataset split``: reproducible, pairs kept together, a split folder left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixserve.core.errors import DatasetError
from pixserve.training.layout import find_paired, find_unaligned
from pixserve.training.prep import split_dataset


def touch_images(folder: Path, names: list[str]) -> None:
    # Splitting only moves files, so any bytes will do.
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(name.encode())


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


NAMES = [f"{i:02d}.png" for i in range(20)]


def test_flat_images_split_by_the_fraction(tmp_path: Path) -> None:
    touch_images(tmp_path, NAMES)
    (tmp_path / "readme.txt").write_text("x")
    seen: list[tuple[int, int]] = []
    summary = split_dataset(tmp_path, val=0.2, seed=1, progress=lambda d, t: seen.append((d, t)))
    assert summary.counts == {"train": 16, "val": 4}
    assert summary.layout == "images"
    assert len(names(tmp_path / "train")) == 16 and len(names(tmp_path / "val")) == 4
    assert set(names(tmp_path / "train")) | set(names(tmp_path / "val")) == set(NAMES)
    assert names(tmp_path) == ["readme.txt", "train", "val"]
    assert summary.notes == (f"left 1 file not named like images in {tmp_path}",)
    assert seen[0] == (0, 20) and seen[-1] == (20, 20)


def test_the_same_seed_gives_the_same_split_whatever_the_creation_order(tmp_path: Path) -> None:
    touch_images(tmp_path / "one", NAMES)
    touch_images(tmp_path / "two", NAMES[::-1])
    touch_images(tmp_path / "three", NAMES)
    split_dataset(tmp_path / "one", val=0.25, test=0.1, seed=7)
    split_dataset(tmp_path / "two", val=0.25, test=0.1, seed=7)
    split_dataset(tmp_path / "three", val=0.25, test=0.1, seed=8)
    for part in ("train", "val", "test"):
        assert names(tmp_path / "one" / part) == names(tmp_path / "two" / part)
    assert [len(names(tmp_path / "one" / p)) for p in ("train", "val", "test")] == [13, 5, 2]
    assert names(tmp_path / "one" / "val") != names(tmp_path / "three" / "val")


def test_a_and_b_folders_keep_pairs_together(tmp_path: Path) -> None:
    touch_images(tmp_path / "A", NAMES)
    touch_images(tmp_path / "B", [n.replace(".png", ".jpg") for n in NAMES])
    summary = split_dataset(tmp_path, val=0.3, seed=3)
    assert summary.counts == {"train": 14, "val": 6}
    assert names(tmp_path) == ["train", "val"]  # the emptied A/ and B/ are gone
    for part in ("train", "val"):
        stems_a = [n.split(".")[0] for n in names(tmp_path / part / "A")]
        stems_b = [n.split(".")[0] for n in names(tmp_path / part / "B")]
        assert stems_a == stems_b
    pairs = find_paired(tmp_path, "val", check=False)
    assert len(pairs) == 6


def test_unaligned_folders_move_a_share_of_each_side(tmp_path: Path) -> None:
    touch_images(tmp_path / "trainA", NAMES)
    touch_images(tmp_path / "trainB", NAMES[:10])
    summary = split_dataset(tmp_path, val=0.2, seed=0)
    assert summary.counts == {"trainA": 16, "valA": 4, "trainB": 8, "valB": 2}
    val = find_unaligned(tmp_path, "val", check=False)
    assert (len(val.a_files), len(val.b_files)) == (4, 2)
    assert not set(names(tmp_path / "valA")) & set(names(tmp_path / "trainA"))


@pytest.mark.parametrize("made", ["train", "val", "test", "valA"])
def test_a_split_folder_is_refused_and_left_alone(tmp_path: Path, made: str) -> None:
    if made == "valA":
        touch_images(tmp_path / "trainA", NAMES)
        touch_images(tmp_path / "trainB", NAMES)
    else:
        touch_images(tmp_path, NAMES)
    (tmp_path / made).mkdir()
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(DatasetError, match=f"split already .*{made}/"):
        split_dataset(tmp_path)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_a_tiny_set_keeps_one_for_training_and_says_val_got_none(tmp_path: Path) -> None:
    touch_images(tmp_path, ["only.png"])
    summary = split_dataset(tmp_path, val=0.2, test=0.1)
    assert summary.counts == {"train": 1, "val": 0, "test": 0}
    assert summary.notes == ("only 1 image: val got none", "only 1 image: test got none")
    touch_images(tmp_path / "two", ["a.png", "b.png"])
    assert split_dataset(tmp_path / "two", val=0.9).counts == {"train": 1, "val": 1}


def test_nothing_to_split(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        split_dataset(tmp_path / "nope")
    (tmp_path / "file.png").write_bytes(b"x")
    with pytest.raises(DatasetError, match="is a file"):
        split_dataset(tmp_path / "file.png")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="holds no images to split"):
        split_dataset(tmp_path / "empty")
    touch_images(tmp_path / "pairs" / "A", ["x.png"])
    touch_images(tmp_path / "pairs" / "B", ["y.png"])
    with pytest.raises(DatasetError, match=r"do not pair up.* belong in trainA/ and trainB/"):
        split_dataset(tmp_path / "pairs")
    with pytest.raises(ValueError, match="sum below 1"):
        split_dataset(tmp_path, val=0.6, test=0.5)
