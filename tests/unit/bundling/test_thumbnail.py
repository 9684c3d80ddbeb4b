"""Thumbnails: rendered by the new style's own pipeline, never a reason to fail an import."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from PIL import Image

from pixserve.bundling import import_onnx, render_thumbnail, sample_photo, write_bundle
from pixserve.bundling.thumbnail import MAX_BYTES, THUMBNAIL_SIDE
from pixserve.cli.main import cli
from pixserve.core.tensor_io import TensorIO, ValueRange
from pixserve.imaging.sample import SAMPLE
from pixserve.pipeline import BuiltinManifest, load_bundle
from pixserve.pipeline.manifest import FaceSpec, OperatorSpec, PipelineSpec
from tests.unit.inference import tiny_models

NEGATIVE = TensorIO(range=ValueRange.SIGNED)  # y = -x in -1..1: the photographic negative


def face_style(detector: str = "haar") -> BuiltinManifest:
    """A pencil style that crops to the face first, and needs one."""
    return BuiltinManifest(
        name="portrait",
        builtin=OperatorSpec(operator="pencil"),
        pipeline=PipelineSpec(face=FaceSpec(required=True, detector=detector)),
    )


def open_jpeg(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.format == "JPEG"
        return np.asarray(image.convert("RGB"))


def test_the_shipped_sample_is_small_and_square() -> None:
    assert SAMPLE.stat().st_size <= 60_000
    assert sample_photo().shape == (384, 384, 3)


def test_an_imported_style_gets_a_thumbnail(tmp_path: Path) -> None:
    model = tiny_models.negate(tmp_path / "neg.onnx")
    result = import_onnx(model, tmp_path / "styles", NEGATIVE, name="neg")
    style = result.style
    assert result.thumbnail_skipped is None
    assert style.thumbnail == style.path / "thumbnail.jpg"
    assert style.thumbnail.stat().st_size <= MAX_BYTES
    pixels = open_jpeg(style.thumbnail)
    assert pixels.shape == (THUMBNAIL_SIDE, THUMBNAIL_SIDE, 3)
    assert pixels.std() > 20  # a picture, not a flat colour
    # It is the sample as the style renders it: the negative of the (square) sample.
    expected = 255 - np.asarray(Image.fromarray(sample_photo()).resize((256, 256)))
    assert np.abs(pixels.astype(int) - expected.astype(int)).mean() < 12


def test_the_callers_sample_is_used(tmp_path: Path) -> None:
    model = tiny_models.negate(tmp_path / "neg.onnx")
    sample = np.zeros((300, 500, 3), np.uint8)
    sample[..., 0] = 200  # red, wider than high
    style = import_onnx(model, tmp_path, NEGATIVE, name="neg", sample=sample).style
    assert style.thumbnail is not None
    pixels = open_jpeg(style.thumbnail)
    assert pixels.shape == (256, 256, 3)
    assert np.abs(pixels.mean(axis=(0, 1)) - [55, 255, 255]).max() < 4


def test_a_face_style_without_a_face_in_the_sample_has_no_thumbnail(tmp_path: Path) -> None:
    y, x = np.mgrid[0:240, 0:320]
    no_face = np.stack([x % 256, y, (x + y) % 256], axis=2).astype(np.uint8)
    written = write_bundle(tmp_path, face_style(), sample=no_face)
    assert written.thumbnail_skipped is not None and "no face" in written.thumbnail_skipped
    assert written.style.thumbnail is None
    assert not (tmp_path / "portrait" / "thumbnail.jpg").exists()
    assert load_bundle(tmp_path / "portrait").face is not None  # the bundle itself is fine


def test_a_face_style_crops_the_face_of_the_shipped_sample(tmp_path: Path) -> None:
    written = write_bundle(tmp_path, face_style())
    assert written.thumbnail_skipped is None and written.style.thumbnail is not None
    assert open_jpeg(written.style.thumbnail).shape == (256, 256, 3)


def test_a_sample_that_does_not_render_is_reported_not_raised(tmp_path: Path) -> None:
    grey = np.zeros((64, 64), np.uint8)
    written = write_bundle(tmp_path, face_style(), sample=grey)
    assert written.thumbnail_skipped is not None and "RGB uint8" in written.thumbnail_skipped
    assert written.style.thumbnail is None


def test_a_busy_picture_is_compressed_harder_to_fit(tmp_path: Path) -> None:
    model = tiny_models.negate(tmp_path / "neg.onnx")
    style = import_onnx(model, tmp_path, NEGATIVE, name="neg", sample=None).style
    noise = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    data = render_thumbnail(style, noise)  # 46 KB at the first quality tried
    assert len(data) <= MAX_BYTES
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (256, 256)


def test_pixserve_import_says_where_the_thumbnail_went(tmp_path: Path) -> None:
    model = tiny_models.negate(tmp_path / "neg.onnx")
    styles = tmp_path / "styles"
    args = ["import", "onnx", str(model), "--name", "neg", "--range=-1..1"]
    result = CliRunner().invoke(cli, [*args, "--styles-dir", str(styles)])
    assert result.exit_code == 0, result.output
    assert f"thumbnail written to {styles / 'neg' / 'thumbnail.jpg'}" in result.output
