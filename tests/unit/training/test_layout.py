"""Dataset layouts: every layout found, every broken dataset refused with the files named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pixserve.core.errors import DatasetError
from pixserve.training.layout import (
    Pair,
    PairKind,
    find_images,
    find_paired,
    find_unaligned,
    list_images,
    read_image,
    read_pair,
    split_aligned,
)
from tests.support.datasets import noise, save
from tests.support.images import jpeg_bytes, orient, pattern


def aligned(path: Path, width: int = 16, height: int = 8, seed: int = 0) -> Path:
    """An A|B image: left half red-ish noise, right half blue-ish, told apart by the mean."""
    a, b = noise(width // 2, height, seed), noise(width // 2, height, seed + 1)
    a[..., 0], b[..., 2] = 255, 255
    return save(path, np.concatenate([a, b], axis=1))


# --- aligned pairs ---------------------------------------------------------------------


def test_aligned_pairs_in_a_split_folder(tmp_path: Path) -> None:
    for name in ("b.png", "a.png", "c.jpg"):
        aligned(tmp_path / "train" / name)
    pairs = find_paired(tmp_path, "train")
    assert pairs.kind is PairKind.ALIGNED
    assert pairs.folder == tmp_path / "train"
    assert [p.a.name for p in pairs] == ["a.png", "b.png", "c.jpg"]
    assert all(p.b is None for p in pairs) and len(pairs) == 3 and pairs[0] == pairs.items[0]
    a, b = read_pair(pairs[0])
    assert a.shape == b.shape == (8, 8, 3)
    assert (a[..., 0] == 255).all() and (b[..., 2] == 255).all()


def test_split_aligned_halves_and_refuses_an_odd_width() -> None:
    a, b = split_aligned(np.zeros((4, 10, 3), np.uint8))
    assert a.shape == b.shape == (4, 5, 3) and a.flags.c_contiguous
    with pytest.raises(ValueError, match="even width"):
        split_aligned(np.zeros((4, 9, 3), np.uint8))


def test_an_unsplit_folder_is_the_train_split(tmp_path: Path) -> None:
    aligned(tmp_path / "x.png")
    (tmp_path / "notes.txt").write_text("not an image")
    pairs = find_paired(tmp_path, "train")
    assert pairs.folder == tmp_path and [p.a.name for p in pairs] == ["x.png"]
    assert find_images(tmp_path) == [tmp_path / "x.png"]
    assert len(find_paired(tmp_path, "val")) == 0  # val is optional
    assert find_images(tmp_path, "val") == []


def test_a_missing_train_or_test_split_is_an_error(tmp_path: Path) -> None:
    aligned(tmp_path / "trainA" / "x.png")
    with pytest.raises(DatasetError, match="has no train split"):
        find_paired(tmp_path, "train")
    with pytest.raises(DatasetError, match="has no test split") as caught:
        find_images(tmp_path, "test")
    assert caught.value.code == "invalid_dataset" and caught.value.http_status == 422


def test_an_unknown_split_name_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="split must be one of"):
        find_paired(tmp_path, "training")


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_the_dataset_folder_itself_must_exist(tmp_path: Path, kind: str) -> None:
    data = tmp_path / "data"
    if kind == "file":
        data.write_text("x")
    with pytest.raises(DatasetError, match="does not exist" if kind == "missing" else "is a file"):
        find_paired(data)


def test_odd_width_aligned_images_are_named(tmp_path: Path) -> None:
    aligned(tmp_path / "train" / "good.png")
    save(tmp_path / "train" / "odd.png", noise(15, 8))
    with pytest.raises(DatasetError) as caught:
        find_paired(tmp_path)
    message = caught.value.message
    assert "odd.png: 15x8, an odd width" in message and "good.png" not in message
    assert str(tmp_path / "train") in message and "1 file " in message
    # Without the up-front check the loader finds it when it reads the pair.
    odd = find_paired(tmp_path, check=False)[1]
    with pytest.raises(DatasetError, match=r"odd\.png: width 15 is odd"):
        read_pair(odd)


def test_a_text_file_named_jpg_is_refused_by_name(tmp_path: Path) -> None:
    aligned(tmp_path / "train" / "a.png")
    (tmp_path / "train" / "b.jpg").write_text("this is not a photo\n")
    for find in (find_paired, find_images):
        with pytest.raises(DatasetError, match=r"b\.jpg: This file is not an image"):
            find(tmp_path)
    with pytest.raises(DatasetError, match=r"b\.jpg: This file is not an image"):
        read_image(tmp_path / "train" / "b.jpg")


def test_many_problems_are_listed_a_few_and_counted(tmp_path: Path) -> None:
    for i in range(8):
        save(tmp_path / f"{i}.png", noise(9, 4))
    with pytest.raises(DatasetError) as caught:
        find_paired(tmp_path)
    message = caught.value.message
    assert "8 files" in message and "4.png" in message and "5.png" not in message
    assert message.endswith("(and 3 more)")


@pytest.mark.parametrize("where", ["train", "."])
def test_an_empty_folder_is_an_error(tmp_path: Path, where: str) -> None:
    (tmp_path / where).mkdir(exist_ok=True)
    with pytest.raises(DatasetError, match="holds no images"):
        find_paired(tmp_path)
    with pytest.raises(DatasetError, match="holds no images"):
        find_images(tmp_path)


def test_hidden_and_non_image_files_are_ignored_and_suffixes_any_case(tmp_path: Path) -> None:
    folder = tmp_path / "train"
    save(folder / "B.JPG", noise(8, 8))
    save(folder / "a.Png", noise(8, 8))
    save(folder / ".hidden.png", noise(8, 8))
    save(folder / "c.tiff", noise(8, 8))
    (folder / "readme.md").write_text("x")
    (folder / "sub.png").mkdir()
    assert [p.name for p in list_images(folder)] == ["B.JPG", "a.Png", "c.tiff"]
    assert [p.name for p in find_images(tmp_path)] == ["B.JPG", "a.Png", "c.tiff"]


def test_read_image_applies_the_exif_orientation(tmp_path: Path) -> None:
    upright = pattern(96, 64)
    path = tmp_path / "turned.jpg"
    path.write_bytes(jpeg_bytes(orient(upright, 6), exif_orientation=6))
    pixels = read_image(path)
    assert pixels.shape == (64, 96, 3) and pixels.dtype == np.uint8
    assert np.abs(pixels.astype(int) - upright).mean() < 3


# --- A/ + B/ folders -------------------------------------------------------------------


def test_folders_pair_up_by_stem_whatever_the_extension(tmp_path: Path) -> None:
    for stem in ("2", "1", "3"):
        save(tmp_path / "train" / "A" / f"{stem}.png", noise(12, 6, int(stem)))
        save(tmp_path / "train" / "B" / f"{stem}.jpg", noise(12, 6), quality=95)
    pairs = find_paired(tmp_path)
    assert pairs.kind is PairKind.FOLDERS
    assert [(p.a.name, p.b.name if p.b else None) for p in pairs] == [
        ("1.png", "1.jpg"),
        ("2.png", "2.jpg"),
        ("3.png", "3.jpg"),
    ]
    a, b = read_pair(pairs[0])
    assert a.shape == b.shape == (6, 12, 3)
    assert np.array_equal(a, noise(12, 6, 1))


def test_unsplit_a_and_b_folders_are_the_train_split(tmp_path: Path) -> None:
    save(tmp_path / "A" / "x.png", noise(4, 4))
    save(tmp_path / "B" / "x.png", noise(4, 4))
    assert find_paired(tmp_path).items == (
        Pair(tmp_path / "A" / "x.png", tmp_path / "B" / "x.png"),
    )


def test_mismatched_names_are_listed_per_side(tmp_path: Path) -> None:
    for stem in ["both", *(f"a{i}" for i in range(7))]:
        save(tmp_path / "A" / f"{stem}.png", noise(4, 4))
    for stem in ("both", "b0"):
        save(tmp_path / "B" / f"{stem}.png", noise(4, 4))
    with pytest.raises(DatasetError) as caught:
        find_paired(tmp_path)
    message = caught.value.message
    assert "do not pair up by file name" in message
    assert "only in A/: a0.png, a1.png, a2.png, a3.png, a4.png (and 2 more)" in message
    assert "only in B/: b0.png" in message and "both.png" not in message


def test_pairs_of_different_sizes_are_named(tmp_path: Path) -> None:
    save(tmp_path / "A" / "ok.png", noise(8, 8))
    save(tmp_path / "B" / "ok.png", noise(8, 8))
    save(tmp_path / "A" / "big.png", noise(16, 8))
    save(tmp_path / "B" / "big.jpg", noise(8, 8))
    with pytest.raises(DatasetError, match=r"A/big\.png is 16x8 but B/big\.jpg is 8x8") as c:
        find_paired(tmp_path)
    assert "ok.png" not in c.value.message
    with pytest.raises(DatasetError, match="must be the same size"):
        read_pair(find_paired(tmp_path, check=False)[0])


def test_an_unreadable_file_in_a_folder_pair_is_named(tmp_path: Path) -> None:
    save(tmp_path / "A" / "x.png", noise(8, 8))
    (tmp_path / "B").mkdir()
    (tmp_path / "B" / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(DatasetError, match=r"B/x\.png: The image is damaged"):
        find_paired(tmp_path)


def test_a_without_b_is_an_error(tmp_path: Path) -> None:
    save(tmp_path / "A" / "x.png", noise(4, 4))
    with pytest.raises(DatasetError, match="has A/ but no B/"):
        find_paired(tmp_path)


def test_stems_that_clash_on_one_side_are_ambiguous(tmp_path: Path) -> None:
    save(tmp_path / "A" / "x.png", noise(4, 4))
    save(tmp_path / "A" / "x.jpg", noise(4, 4))
    save(tmp_path / "B" / "x.png", noise(4, 4))
    with pytest.raises(DatasetError, match=r"ambiguous: x\.jpg and x\.png"):
        find_paired(tmp_path)


# --- unaligned -------------------------------------------------------------------------


def test_unaligned_sets_of_any_sizes(tmp_path: Path) -> None:
    save(tmp_path / "trainA" / "1.png", noise(8, 8))
    save(tmp_path / "trainA" / "2.png", noise(10, 6))
    save(tmp_path / "trainB" / "z.jpg", noise(20, 12))
    save(tmp_path / "valA" / "v.png", noise(8, 8))
    save(tmp_path / "valB" / "w.png", noise(8, 8))
    train = find_unaligned(tmp_path)
    assert [p.name for p in train.a_files] == ["1.png", "2.png"]
    assert [p.name for p in train.b_files] == ["z.jpg"] and len(train) == 2
    val = find_unaligned(tmp_path, "val")
    assert (len(val.a_files), len(val.b_files)) == (1, 1)
    with pytest.raises(DatasetError, match="no unaligned test split"):
        find_unaligned(tmp_path, "test")


def test_unaligned_val_is_optional(tmp_path: Path) -> None:
    save(tmp_path / "trainA" / "1.png", noise(8, 8))
    save(tmp_path / "trainB" / "1.png", noise(8, 8))
    val = find_unaligned(tmp_path, "val")
    assert val.a_files == val.b_files == () and not val


def test_unaligned_also_reads_split_a_and_b_folders(tmp_path: Path) -> None:
    save(tmp_path / "train" / "A" / "1.png", noise(8, 8))
    save(tmp_path / "train" / "B" / "other.png", noise(6, 6))
    found = find_unaligned(tmp_path)
    assert found.a_files == (tmp_path / "train" / "A" / "1.png",)
    assert found.b_files == (tmp_path / "train" / "B" / "other.png",)


def test_unaligned_errors(tmp_path: Path) -> None:
    save(tmp_path / "trainA" / "1.png", noise(8, 8))
    with pytest.raises(DatasetError, match="has trainA/ but no trainB/"):
        find_unaligned(tmp_path)
    (tmp_path / "trainB").mkdir()
    with pytest.raises(DatasetError, match=r"trainB holds no images"):
        find_unaligned(tmp_path)
    (tmp_path / "trainB" / "t.png").write_text("text")
    with pytest.raises(DatasetError, match=r"t\.png: This file is not an image"):
        find_unaligned(tmp_path)
    assert len(find_unaligned(tmp_path, check=False).b_files) == 1


def test_aligned_pairs_are_not_an_unaligned_dataset(tmp_path: Path) -> None:
    aligned(tmp_path / "train" / "x.png")
    with pytest.raises(DatasetError, match="expected trainA/ and trainB/"):
        find_unaligned(tmp_path)
