"""``Pipeline.run_batch``: several images share model runs, and each comes back as
``run`` would have made it, or with the error ``run`` would have raised for it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pixserve.core.errors import InvalidCrop, ModelError
from pixserve.domain import Crop, RenderItem
from pixserve.inference import Engine, EngineCache
from pixserve.inference.cache import Decision
from pixserve.inference.spec import GPU_BATCH, Device, EngineSpec
from pixserve.pipeline import BUILTIN_DIR, build_pipeline, load_bundle
from pixserve.pipeline.pipeline import Pipeline
from pixserve.pipeline.steps import OnnxModelStep
from pixserve.pipeline.steps.onnx_model import BUCKET
from tests.support.models import conv_chain_model, write_onnx_bundle


class Spy:
    """An engine that records the batch size of every run, and can be told to fail."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sizes: list[int] = []
        self.fail_on: int | None = None  # a batch size whose runs fail

    @property
    def name(self) -> str:
        return self.engine.name

    @property
    def accepts_batches(self) -> bool:
        return self.engine.accepts_batches

    def run(self, batch: np.ndarray) -> np.ndarray:
        self.sizes.append(batch.shape[0])
        if batch.shape[0] == self.fail_on:
            raise ModelError("the model ran out of memory")
        return self.engine.run(batch)


@pytest.fixture(scope="module")
def mosaic() -> Pipeline:
    """A real style whose model normalises each image by its own statistics (instance
    norm), so mixing images up inside a batch would show in every pixel."""
    return build_pipeline(load_bundle(BUILTIN_DIR / "mosaic"), EngineCache(threads=1))


def spied(pipeline: Pipeline, *, device: Device = Device.CPU) -> tuple[Pipeline, Spy]:
    steps = list(pipeline.steps)
    i = pipeline.names.index("model")
    step = steps[i]
    assert isinstance(step, OnnxModelStep)
    spy = Spy(step.engine)
    decision = Decision(EngineSpec(device=device), "a test")
    steps[i] = replace(step, engine=spy, decision=decision)
    return replace(pipeline, steps=tuple(steps)), spy


class Elementwise:
    """A batching engine whose output at a pixel depends on that pixel alone (tanh), or,
    with ``upward``, on every pixel below it too (a running sum from the bottom), like a
    model whose instance normalisation sees every pixel. It records each run's shape."""

    name = "numpy"
    accepts_batches = True

    def __init__(self, *, upward: bool = False) -> None:
        self.upward = upward
        self.shapes: list[tuple[int, ...]] = []

    def run(self, batch: np.ndarray) -> np.ndarray:
        self.shapes.append(batch.shape)
        if self.upward:
            return np.flip(np.cumsum(np.flip(batch, 2), 2), 2) / batch.shape[2]
        return np.tanh(batch)


def with_engine(pipeline: Pipeline, engine: Engine) -> Pipeline:
    steps = list(pipeline.steps)
    i = pipeline.names.index("model")
    steps[i] = replace(steps[i], engine=engine)
    return replace(pipeline, steps=tuple(steps))


def photos() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [
        rng.integers(0, 256, (48, 64, 3), dtype=np.uint8),
        rng.integers(0, 256, (40, 56, 3), dtype=np.uint8),
        rng.integers(0, 256, (48, 64, 3), dtype=np.uint8),
    ]


def test_images_of_one_shape_share_a_run_and_match_run(mosaic: Pipeline) -> None:
    pipeline, spy = spied(mosaic)
    images = photos()
    alone = [pipeline.run(image) for image in images]
    spy.sizes.clear()
    together = pipeline.run_batch([RenderItem(image) for image in images])
    # Two runs check whether padding to a bucket moves the output (it does: the batch's
    # sizes do not mix); then the two 48×64 images in one run, the other alone.
    assert spy.sizes[:2] == [1, 1] and sorted(spy.sizes[2:]) == [1, 2]
    for one, many in zip(alone, together, strict=True):
        assert isinstance(many, np.ndarray)
        assert many.shape == one.shape
        assert np.abs(many.astype(int) - one.astype(int)).max() <= 1


def test_each_image_keeps_its_crop_and_progress(mosaic: Pipeline) -> None:
    images = photos()
    reports: list[list[float]] = [[], [], []]
    crops = [Crop(4, 4, 40, 32), None, Crop(0, 8, 64, 32)]
    items = [
        RenderItem(image, crop, report.append)
        for image, crop, report in zip(images, crops, reports, strict=True)
    ]
    results = mosaic.run_batch(items)
    shapes = [r.shape for r in results if isinstance(r, np.ndarray)]
    assert shapes == [(32, 40, 3), (40, 56, 3), (32, 64, 3)]
    for report in reports:
        assert report[0] == 0.0 and report[-1] == 1.0
        assert report == sorted(report)


def test_a_bad_crop_fails_its_image_only(mosaic: Pipeline) -> None:
    images = photos()
    items = [RenderItem(images[0], Crop(60, 0, 20, 20)), RenderItem(images[2])]
    bad, good = mosaic.run_batch(items)
    assert isinstance(bad, InvalidCrop)
    assert isinstance(good, np.ndarray) and good.shape == images[2].shape


def test_a_failed_run_fails_the_images_of_that_run_only(mosaic: Pipeline) -> None:
    pipeline, spy = spied(mosaic)
    spy.fail_on = 2
    first, other, third = pipeline.run_batch([RenderItem(image) for image in photos()])
    assert isinstance(first, ModelError) and isinstance(third, ModelError)
    assert isinstance(other, np.ndarray)


def test_batch_limits(mosaic: Pipeline, tmp_path: Path) -> None:
    on_cpu, _ = spied(mosaic)
    on_gpu, _ = spied(mosaic, device=Device.CUDA)
    assert on_cpu.batch_limit(None) == 1  # batches ran slower on CPUs
    assert on_gpu.batch_limit(None) == GPU_BATCH
    assert on_cpu.batch_limit(4) == 4  # the operator's setting wins
    fixed = write_onnx_bundle(tmp_path, "fixed", conv_chain_model(layers=2, width=4))
    one = build_pipeline(load_bundle(fixed), EngineCache(threads=1))
    assert one.batch_limit(4) == 1  # its batch axis is fixed at one
    two = one.run_batch([RenderItem(image) for image in photos()[:2]])
    assert [r.shape for r in two if isinstance(r, np.ndarray)] == [(48, 64, 3), (40, 56, 3)]


def test_images_of_different_sizes_share_a_run_padded_to_their_bucket(mosaic: Pipeline) -> None:
    engine = Elementwise()
    pipeline = with_engine(mosaic, engine)
    images = photos()  # 48×64, 40×56, 48×64: one 64-px bucket
    alone = [pipeline.run(image) for image in images]
    engine.shapes.clear()
    together = pipeline.run_batch([RenderItem(image) for image in images])
    exact, padded = engine.shapes[:2]  # the check: the sample photo, then padded
    assert padded[2:] != exact[2:] and padded[2] % BUCKET == 0 and padded[3] % BUCKET == 0
    assert engine.shapes[2:] == [(3, 3, 64, 64)]
    for one, many in zip(alone, together, strict=True):
        assert isinstance(many, np.ndarray)
        np.testing.assert_array_equal(many, one)  # the padding is cropped off again


def test_images_alone_in_their_bucket_run_unpadded(mosaic: Pipeline) -> None:
    engine = Elementwise()
    pipeline = with_engine(mosaic, engine)
    tall = np.random.default_rng(5).integers(0, 256, (100, 56, 3), dtype=np.uint8)
    images = [photos()[0], tall, photos()[2]]
    results = pipeline.run_batch([RenderItem(image) for image in images])
    assert sorted(engine.shapes[2:]) == [(1, 3, 100, 56), (2, 3, 48, 64)]
    assert [r.shape for r in results if isinstance(r, np.ndarray)] == [i.shape for i in images]


def test_a_model_that_padding_changes_shares_runs_between_equal_sizes_only(
    mosaic: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    # mosaic's own model is such a one: padded to a bucket, its instance normalisation sees
    # the reflected pixels and the sample photo comes out at 30 dB of its unpadded self.
    engine = Elementwise(upward=True)
    pipeline = with_engine(mosaic, engine)
    images = photos()
    alone = [pipeline.run(image) for image in images]
    engine.shapes.clear()
    with caplog.at_level("INFO"):
        together = pipeline.run_batch([RenderItem(image) for image in images])
    assert "only images of one size share a run" in caplog.text
    assert sorted(engine.shapes[2:]) == [(1, 3, 40, 56), (2, 3, 48, 64)]  # after the check
    for one, many in zip(alone, together, strict=True):
        assert isinstance(many, np.ndarray)
        np.testing.assert_array_equal(many, one)
