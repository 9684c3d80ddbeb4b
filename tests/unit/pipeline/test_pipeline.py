"""Pipelines of built-in styles: step order, crop, size limit, post steps, progress."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from pixserve.core.errors import InvalidCrop
from pixserve.domain import Crop
from pixserve.inference import EngineCache
from pixserve.pipeline import Catalog, Kind, build_pipeline, load_bundle
from pixserve.pipeline.steps import Frame, ResizeToInput, Sharpen
from tests.unit.pipeline.bundles import builtin_toml, write_bundle


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load([], strict=True)


def test_every_builtin_runs_through_its_pipeline(catalog: Catalog, chelsea: np.ndarray) -> None:
    engines = EngineCache()
    for style in catalog:
        if style.kind is Kind.UPSCALER:
            continue  # neural, slower: tests/integration/test_upscalers.py runs them
        pipeline = build_pipeline(style, engines)
        assert pipeline.names == ["crop", "limit_size", "model"]
        out = pipeline.run(chelsea)
        assert out.shape == chelsea.shape
        assert out.dtype == np.uint8


def test_crop_then_limit_size(tmp_path: Path, astronaut: np.ndarray) -> None:
    toml = builtin_toml("small", operator="pencil") + "[pipeline]\nmax_side = 100\n"
    style = load_bundle(write_bundle(tmp_path, "small", toml))
    out = build_pipeline(style, EngineCache()).run(astronaut, crop=Crop(10, 20, 300, 150))
    assert out.shape == (50, 100, 3)


def test_crop_selects_the_region(catalog: Catalog, astronaut: np.ndarray) -> None:
    pipeline = build_pipeline(catalog.get("pencil"), EngineCache())
    crop = Crop(x=37, y=11, w=101, h=53)
    out = pipeline.run(astronaut, crop=crop)
    assert out.shape == (53, 101, 3)
    direct = pipeline.run(np.ascontiguousarray(astronaut[11:64, 37:138]))
    np.testing.assert_array_equal(out, direct)


@pytest.mark.parametrize(
    "crop",
    [Crop(0, 0, 385, 10), Crop(300, 0, 85, 10), Crop(0, 380, 10, 5), Crop(-1, 0, 5, 5)],
)
def test_crop_outside_the_image_is_refused(
    catalog: Catalog, astronaut: np.ndarray, crop: Crop
) -> None:
    pipeline = build_pipeline(catalog.get("pencil"), EngineCache())
    with pytest.raises(InvalidCrop) as info:
        pipeline.run(astronaut, crop=crop)
    assert "384×384" in info.value.message


def test_progress_increases_and_ends_at_one(catalog: Catalog, chelsea: np.ndarray) -> None:
    seen: list[float] = []
    build_pipeline(catalog.get("cartoon"), EngineCache()).run(chelsea, progress=seen.append)
    assert len(seen) >= 3
    assert seen[0] == 0.0
    assert seen[-1] == 1.0
    assert all(b > a for a, b in itertools.pairwise(seen))
    assert all(0.0 <= p <= 1.0 for p in seen)


def test_post_steps_are_listed_and_applied(tmp_path: Path, chelsea: np.ndarray) -> None:
    post = '[{ step = "sharpen", amount = 1.5 }, "resize_to_input"]'
    toml = (
        builtin_toml("crisp", operator="watercolor")
        + f"[pipeline]\nmax_side = 128\npost = {post}\n"
    )
    style = load_bundle(write_bundle(tmp_path, "crisp", toml))
    pipeline = build_pipeline(style, EngineCache())
    assert pipeline.names == ["crop", "limit_size", "model", "sharpen", "resize_to_input"]
    out = pipeline.run(chelsea, crop=Crop(0, 0, 301, 211))
    assert out.shape == (211, 301, 3)  # back to the crop's size after max_side shrank it


def test_sharpen_adds_contrast_at_edges() -> None:
    pixels = np.zeros((20, 20, 3), np.uint8)
    pixels[:, 10:] = 200
    frame = Frame(pixels=pixels, source_shape=(20, 20))
    out = Sharpen(amount=1.0).__call__(frame).pixels
    assert out[:, 10].min() > 200  # overshoot on the bright side
    assert out[:, 9].max() == 0  # clipped undershoot on the dark side
    np.testing.assert_array_equal(out[:, :5], pixels[:, :5])


def test_resize_to_input_restores_source_shape() -> None:
    frame = Frame(pixels=np.zeros((10, 20, 3), np.uint8), source_shape=(31, 57))
    assert ResizeToInput()(frame).pixels.shape == (31, 57, 3)


def test_pipeline_refuses_non_rgb(catalog: Catalog) -> None:
    pipeline = build_pipeline(catalog.get("pencil"), EngineCache())
    with pytest.raises(ValueError, match="RGB uint8"):
        pipeline.run(np.zeros((10, 10, 4), np.uint8))


class _Slow:
    """A step that reports its own progress ten times while it runs."""

    name = "model"
    weight = 0.9

    def __call__(self, frame: Frame) -> Frame:
        return self.run(frame, None)

    def run(self, frame: Frame, progress) -> Frame:  # type: ignore[no-untyped-def]
        for i in range(1, 11):
            if progress is not None:
                progress(i / 10)
        return frame


def test_a_step_that_reports_progress_moves_the_pipelines_bar(chelsea: np.ndarray) -> None:
    from pixserve.pipeline.pipeline import Pipeline
    from pixserve.pipeline.steps import CropStep, LimitSize

    style = Catalog.load([], strict=True).get("pencil")
    pipeline = Pipeline(style, (CropStep(), LimitSize(64), _Slow(), Sharpen()))
    seen: list[float] = []
    pipeline.run(chelsea, progress=seen.append)
    inside = [p for p in seen if 0 < p < 1]
    assert len(inside) >= 10  # the slow step's ten reports, scaled into its share
    assert seen == sorted(seen) and seen[-1] == 1.0
    total = sum(s.weight for s in pipeline.steps)
    start = (CropStep.weight + LimitSize.weight) / total
    assert min(p for p in inside if p > start) == pytest.approx(start + 0.9 / total / 10)


def test_normalise_colours_gives_the_photo_its_colours_back(chelsea: np.ndarray) -> None:
    from pixserve.pipeline.steps import NormaliseColours

    tinted = np.clip(chelsea.astype(int) * [0.4, 0.6, 1.0] + [0, 0, 60], 0, 255).astype(np.uint8)
    frame = Frame(pixels=tinted, source_shape=chelsea.shape[:2], photo=chelsea)
    fixed = NormaliseColours()(frame).pixels
    before = np.abs(tinted.mean((0, 1)) - chelsea.mean((0, 1))).max()
    after = np.abs(fixed.mean((0, 1)) - chelsea.mean((0, 1))).max()
    assert before > 40 and after < 6
    assert np.array_equal(NormaliseColours(strength=0.0)(frame).pixels, tinted)


def test_normalise_colours_is_a_post_step_after_a_crop(tmp_path: Path, chelsea: np.ndarray) -> None:
    post = '[{ step = "normalise_colours", strength = 1.0, lightness = false }]'
    toml = builtin_toml("kept", operator="watercolor") + f"[pipeline]\npost = {post}\n"
    pipeline = build_pipeline(load_bundle(write_bundle(tmp_path, "kept", toml)), EngineCache())
    assert pipeline.names[-1] == "normalise_colours"
    out = pipeline.run(chelsea, crop=Crop(100, 50, 200, 150))
    region = chelsea[50:200, 100:300]
    assert out.shape == region.shape

    def lab_means(rgb: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2LAB).mean((0, 1))

    light, a, b = np.abs(lab_means(out) - lab_means(region))
    assert a < 1 and b < 1  # the crop's hues; watercolor's own lightness kept
    assert light > 3
