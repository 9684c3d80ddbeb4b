"""``dataset pairs``: real pixserve styles as teachers, through the real catalog and renderer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pixserve.core.errors import NoFaceFound, UnknownStyle
from pixserve.training.layout import find_paired, read_pair
from pixserve.training.prep import make_sketch_pairs, make_teacher_pairs, style_teacher
from pixserve.training.prep.resize import square
from tests.support.datasets import photo, save
from tests.unit.pipeline.bundles import builtin_toml, write_bundle


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    src = tmp_path / "photos"
    save(src / "astronaut.png", photo("astronaut", 160))
    save(src / "coffee.png", photo("coffee", 160))
    return src


def test_a_builtin_style_teaches(photos: Path, tmp_path: Path) -> None:
    teacher = style_teacher("pencil")
    summary = make_teacher_pairs(photos, tmp_path / "out", teacher, size=48)
    assert (summary.written, summary.skipped, summary.notes) == (2, (), ())
    a, b = read_pair(find_paired(tmp_path / "out")[0])
    expected = square(np.array(photo("astronaut", 160)), 48)
    assert np.array_equal(a, expected)  # A is the photo
    assert np.array_equal(b, teacher(expected))  # B is the style's output


def test_a_teacher_that_changes_the_size_is_resized_back(photos: Path, tmp_path: Path) -> None:
    styles = tmp_path / "styles"
    write_bundle(styles, "tiny", builtin_toml("tiny", "pencil") + "[pipeline]\nmax_side = 16\n")
    teacher = style_teacher("tiny", style_dirs=[styles])
    summary = make_teacher_pairs(photos, tmp_path / "out", teacher, size=40, layout="folders")
    assert summary.written == 2
    assert summary.notes == (
        "resized 2 teacher outputs back to the photo's size"
        " (the teacher changes the size, e.g. 16x16 from 40x40)",
    )
    for pair in find_paired(tmp_path / "out"):
        a, b = read_pair(pair)
        assert a.shape == b.shape == (40, 40, 3)


def test_photos_the_teacher_refuses_are_skipped(photos: Path, tmp_path: Path) -> None:
    styles = tmp_path / "styles"
    face = '[pipeline]\nface = { required = true, detector = "haar" }\n'
    write_bundle(styles, "portrait", builtin_toml("portrait", "pencil") + face)
    teacher = style_teacher("portrait", style_dirs=[styles])
    summary = make_teacher_pairs(photos, tmp_path / "out", teacher, size=0)
    assert summary.written == 1
    assert [(s.path.name, s.reason) for s in summary.skipped] == [
        ("coffee.png", NoFaceFound().message)
    ]
    # The face crop is smaller than the photo: resized back, so the pair still lines up.
    a, b = read_pair(find_paired(tmp_path / "out")[0])
    assert a.shape == b.shape == photo("astronaut", 160).shape


def test_an_unknown_teacher_fails_before_any_work() -> None:
    with pytest.raises(UnknownStyle, match="no style called “nope”"):
        style_teacher("nope")


def test_a_plain_function_can_teach_too(photos: Path, tmp_path: Path) -> None:
    def upscale(pixels: np.ndarray) -> np.ndarray:
        return np.repeat(np.repeat(255 - pixels, 2, axis=0), 2, axis=1)

    make_teacher_pairs(photos, tmp_path / "out", upscale, size=20)
    a, b = read_pair(find_paired(tmp_path / "out")[1])
    assert np.array_equal(b, 255 - a)  # a 2x nearest upscale shrunk back by area: exact


def test_pairs_and_sketches_refuse_a_negative_size(photos: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="size"):
        make_teacher_pairs(photos, tmp_path / "o", lambda p: p, size=-1)
    with pytest.raises(ValueError, match="size"):
        make_sketch_pairs(photos, tmp_path / "o", size=-1)
