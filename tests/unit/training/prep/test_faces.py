"""``dataset faces`` on real photos: faces cropped at the size asked, the rest listed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pixserve.core.errors import DatasetError
from pixserve.pipeline.faces import Face
from pixserve.training.layout import list_images, read_image
from pixserve.training.prep import crop_faces
from tests.support.datasets import photo, save


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    src = tmp_path / "photos"
    save(src / "astronaut.jpg", photo("astronaut"), quality=92)
    save(src / "people" / "grace.png", photo("grace_hopper"))
    save(src / "coffee.jpg", photo("coffee"), quality=92)
    (src / "notes.jpg").write_text("a text file named like a photo\n")
    (src / "list.txt").write_text("not an image at all\n")
    return src


@pytest.mark.parametrize("detector", ["yuface", "haar"])
def test_faces_are_cropped_and_the_rest_listed(photos: Path, tmp_path: Path, detector: str) -> None:
    seen: list[tuple[int, int]] = []
    summary = crop_faces(
        photos,
        tmp_path / "faces",
        size=64,
        detector=detector,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert (summary.seen, summary.written) == (4, 2)
    assert [p.name for p in list_images(tmp_path / "faces")] == ["astronaut.png", "grace.png"]
    for crop in list_images(tmp_path / "faces"):
        assert read_image(crop).shape == (64, 64, 3)
    reasons = {s.path.name: s.reason for s in summary.skipped}
    assert reasons["coffee.jpg"] == f"no face found ({detector} detector)"
    assert reasons["notes.jpg"].startswith("This file is not an image")
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)
    assert "ignored 1 file not named like images" in summary.notes
    levelled_note = any("no face was levelled" in note for note in summary.notes)
    assert levelled_note is (detector == "haar")  # Haar finds no eyes to level


def test_the_crop_holds_the_face_with_the_margin(tmp_path: Path) -> None:
    """A detector that reports a known box: the crop is that square, resized."""

    class Fixed:
        name = "fixed"

        def detect(self, rgb: np.ndarray) -> list[Face]:
            return [Face((40, 40, 20, 20), 0.9), Face((100, 100, 40, 40), 0.8)]

    rgb = np.zeros((200, 200, 3), np.uint8)
    rgb[100:140, 100:140] = 255  # the larger face, white
    save(tmp_path / "src" / "x.png", rgb)
    crop_faces(tmp_path / "src", tmp_path / "out", size=80, margin=0.5, detector=Fixed())
    out = read_image(tmp_path / "out" / "x.png")
    # 40 px face + 20 px each side = 80 px: the white square fills the middle half exactly.
    assert out.shape == (80, 80, 3)
    assert out[20:60, 20:60].min() == 255 and out[:20].max() == 0 and out[60:].max() == 0


def test_jpeg_output_and_clashing_names(tmp_path: Path) -> None:
    save(tmp_path / "src" / "a.jpg", photo("astronaut"), quality=90)
    save(tmp_path / "src" / "more" / "a.png", photo("astronaut"))
    summary = crop_faces(tmp_path / "src", tmp_path / "out", size=32, fmt="jpeg", detector="haar")
    assert summary.written == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a-2.jpg", "a.jpg"]
    assert (tmp_path / "out" / "a.jpg").read_bytes()[:3] == b"\xff\xd8\xff"


def test_no_readable_image_at_all_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.jpg").write_text("text")
    with pytest.raises(DatasetError, match=r"none of the 1 image files .* could be read"):
        crop_faces(tmp_path / "src", tmp_path / "out", detector="haar")


def test_photos_without_faces_write_nothing(tmp_path: Path) -> None:
    save(tmp_path / "src" / "cat.png", photo("chelsea"))
    summary = crop_faces(tmp_path / "src", tmp_path / "out", detector="haar")
    assert summary.written == 0 and [s.path.name for s in summary.skipped] == ["cat.png"]
