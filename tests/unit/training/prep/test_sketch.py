"""``dataset sketch``: pencil sketches of real photos, written as aligned pairs or folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pixserve.training.layout import PairKind, find_paired, read_image, read_pair
from pixserve.training.prep import make_sketch_pairs, pencil_sketch
from pixserve.training.prep.resize import square
from tests.support.datasets import noise, photo, save


def test_a_sketch_is_light_paper_with_darker_lines() -> None:
    rgb = np.array(photo("astronaut", 256))
    sketch = pencil_sketch(rgb)
    assert sketch.shape == rgb.shape and sketch.dtype == np.uint8
    assert (sketch[..., 0] == sketch[..., 1]).all() and (sketch[..., 1] == sketch[..., 2]).all()
    grey = sketch[..., 0]
    assert np.median(grey) > 235  # mostly paper
    assert 0.02 < (grey < 180).mean() < 0.3  # but with lines
    flat = pencil_sketch(np.full((32, 32, 3), 90, np.uint8))
    assert flat.min() >= 254  # no edges, no lines: blank paper


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    src = tmp_path / "photos"
    save(src / "astronaut.png", photo("astronaut"))
    save(src / "coffee.jpg", photo("coffee"), quality=92)
    return src


def test_aligned_pairs_are_sketch_then_photo(photos: Path, tmp_path: Path) -> None:
    summary = make_sketch_pairs(photos, tmp_path / "out", size=64)
    assert (summary.seen, summary.written, summary.skipped) == (2, 2, ())
    pairs = find_paired(tmp_path / "out")
    assert pairs.kind is PairKind.ALIGNED and len(pairs) == 2
    whole = read_image(tmp_path / "out" / "astronaut.png")
    assert whole.shape == (64, 128, 3)
    sketch, photo_side = read_pair(pairs[0])
    expected = square(np.array(photo("astronaut")), 64)
    assert np.array_equal(photo_side, expected)  # PNG: the photo side is exact
    assert np.array_equal(sketch, pencil_sketch(expected))


def test_folders_layout(photos: Path, tmp_path: Path) -> None:
    make_sketch_pairs(photos, tmp_path / "out", size=32, layout="folders", fmt="jpeg")
    pairs = find_paired(tmp_path / "out")
    assert pairs.kind is PairKind.FOLDERS
    assert [(p.a.name, p.b.name if p.b else None) for p in pairs] == [
        ("astronaut.jpg", "astronaut.jpg"),
        ("coffee.jpg", "coffee.jpg"),
    ]
    a, b = read_pair(pairs[1])
    assert a.shape == b.shape == (32, 32, 3)
    assert a.mean() > b.mean()  # the sketch is the lighter side


def test_size_zero_keeps_each_photo_as_it_is(tmp_path: Path) -> None:
    save(tmp_path / "src" / "wide.png", noise(30, 17))
    make_sketch_pairs(tmp_path / "src", tmp_path / "out", size=0)
    a, b = read_pair(find_paired(tmp_path / "out")[0])
    assert a.shape == b.shape == (17, 30, 3)
    assert np.array_equal(b, noise(30, 17))
