"""The ``face`` step: real detectors on real photos, the crop, alignment, no_face_found."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.cbook import get_sample_data
from PIL import Image
from skimage import data

from pixserve.core.errors import NoFaceFound
from pixserve.domain import Crop
from pixserve.inference import EngineCache
from pixserve.pipeline import build_pipeline, load_bundle
from pixserve.pipeline.faces import Face, make_detector
from pixserve.pipeline.steps import FaceStep, Frame
from tests.unit.pipeline.bundles import builtin_toml, write_bundle


def grace_hopper() -> np.ndarray:
    with get_sample_data("grace_hopper.jpg") as f:
        return np.array(Image.open(f).convert("RGB"))


PHOTOS = {"astronaut": data.astronaut, "grace_hopper": grace_hopper}


@pytest.mark.parametrize("detector", ["yuface", "haar"])
@pytest.mark.parametrize("photo", sorted(PHOTOS))
def test_detectors_find_the_face(detector: str, photo: str) -> None:
    rgb = PHOTOS[photo]()
    faces = make_detector(detector).detect(rgb)
    assert len(faces) == 1
    x, y, w, h = faces[0].box
    # The face is in the upper middle of both portraits and a sensible size.
    assert 0.1 * rgb.shape[1] < w < 0.6 * rgb.shape[1]
    assert y + h / 2 < 0.6 * rgb.shape[0] and 0.25 < (x + w / 2) / rgb.shape[1] < 0.75
    if detector == "yuface":
        assert faces[0].eyes is not None
        (lx, ly), (rx, _ry) = faces[0].eyes
        assert x <= lx < rx <= x + w and y <= ly <= y + h / 2 + 10


@pytest.mark.parametrize("detector", ["yuface", "haar"])
def test_no_face_in_the_coffee(detector: str) -> None:
    assert make_detector(detector).detect(data.coffee()) == []


def face_bundle(tmp_path: Path, face: str) -> Path:
    toml = builtin_toml("portrait", operator="pencil") + f"[pipeline]\nface = {face}\n"
    return write_bundle(tmp_path, "portrait", toml)


def test_face_required_style_refuses_the_coffee(tmp_path: Path) -> None:
    style = load_bundle(face_bundle(tmp_path, "{ required = true }"))
    pipeline = build_pipeline(style, EngineCache())
    assert pipeline.names[:3] == ["crop", "face", "limit_size"]
    with pytest.raises(NoFaceFound) as caught:
        pipeline.run(data.coffee())
    assert caught.value.code == "no_face_found"


def test_optional_face_leaves_faceless_images_whole(tmp_path: Path) -> None:
    style = load_bundle(face_bundle(tmp_path, "{ required = false, margin = 0.2 }"))
    coffee = data.coffee()
    assert build_pipeline(style, EngineCache()).run(coffee).shape == coffee.shape


def test_face_step_crops_a_square_around_the_face() -> None:
    rgb = data.astronaut()
    step = FaceStep(make_detector("yuface"), required=True, margin=0.5)
    out = step(Frame(pixels=rgb, source_shape=rgb.shape[:2]))
    h, w = out.pixels.shape[:2]
    assert h == w and 200 < h < 250  # ~112 px face + half a face on each side
    assert out.source_shape == (h, w)


class _TiltedFace:
    """A detector reporting one face whose eyes slope down by 30 degrees."""

    name = "tilted"

    def detect(self, rgb: np.ndarray) -> list[Face]:
        dx, dy = 40 * np.cos(np.radians(30)), 40 * np.sin(np.radians(30))
        return [Face((60, 60, 80, 80), 0.9, ((80.0, 90.0), (80.0 + dx, 90.0 + dy)))]


def test_align_levels_the_eyes() -> None:
    rgb = np.zeros((200, 200, 3), np.uint8)
    rgb[:, :, 0] = np.arange(200, dtype=np.uint8)[None, :]  # horizontal ramp in red
    level = FaceStep(_TiltedFace(), margin=0.0, align=False)(Frame(rgb, (200, 200))).pixels
    turned = FaceStep(_TiltedFace(), margin=0.0, align=True)(Frame(rgb, (200, 200))).pixels
    assert level.shape == turned.shape == (80, 80, 3)
    # Rotating by the eye angle tilts the ramp: red now changes down the columns too.
    assert np.abs(np.diff(level[..., 0].astype(int), axis=0)).max() == 0
    assert np.abs(np.diff(turned[..., 0].astype(int), axis=0)).mean() > 0.3


@pytest.mark.parametrize(
    ("face", "message"),
    [
        ('"yes"', "must be true, false or a table"),
        ("{ margin = 9 }", r"\[pipeline.face\] margin: must be a number from 0 to 4, got 9"),
        ('{ detector = "dlib" }', "detector: must be one of 'auto', 'yuface', 'haar', got 'dlib'"),
        ("{ size = 3 }", r"\[pipeline.face\] size: unknown key"),
    ],
)
def test_bad_face_tables(tmp_path: Path, face: str, message: str) -> None:
    from pixserve.core.errors import BundleError

    with pytest.raises(BundleError, match=message):
        load_bundle(face_bundle(tmp_path, face))


def test_a_user_crop_skips_the_face_step(tmp_path: Path) -> None:
    # The coffee has no face: a required face step refuses it, unless the person cropped.
    style = load_bundle(face_bundle(tmp_path, "{ required = true }"))
    coffee = data.coffee()
    out = build_pipeline(style, EngineCache()).run(coffee, crop=Crop(10, 20, 200, 100))
    assert out.shape == (100, 200, 3)
