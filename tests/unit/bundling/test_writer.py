"""``write_bundle``: what it writes is what the reader accepts, for every kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pixserve.bundling import write_bundle
from pixserve.bundling.writer import onnx_manifest
from pixserve.core.errors import BundleError
from pixserve.core.tensor_io import Layout, TensorIO, ValueRange
from pixserve.pipeline import BuiltinManifest, Kind, UpscalerManifest, manifest_toml
from pixserve.pipeline.manifest import (
    FaceSpec,
    OperatorSpec,
    PipelineSpec,
    StepSpec,
    UpscalerSpec,
)
from pixserve.pipeline.operators import CartoonParams
from pixserve.pipeline.preview import PreviewSpec
from tests.unit.inference import tiny_models

BUILTIN = BuiltinManifest(
    name="comic",
    title="Comic",
    description="Inked.",
    fast=True,
    builtin=OperatorSpec(operator="cartoon", params=CartoonParams(colors=6, edges=2.0)),
    pipeline=PipelineSpec(
        max_side=640,
        post=(StepSpec(name="sharpen"), StepSpec(name="sharpen", params={"amount": 0.3})),
        face=FaceSpec(required=False, margin=1.0, detector="haar"),
    ),
    preview=PreviewSpec(max_side=300, watermark="shop", opacity=0.5),
)
UPSCALER = UpscalerManifest(
    name="big", upscaler=UpscalerSpec(model="waifu2x-anime-2x", tile=128, tile_overlap=8)
)


def test_builtin_round_trip(tmp_path: Path) -> None:
    written = write_bundle(tmp_path, BUILTIN, thumbnail=False)
    style = written.style
    assert style.path == tmp_path / "comic" and style.kind is Kind.BUILTIN
    assert style.manifest == BUILTIN
    assert style.builtin is not None and style.builtin.params == CartoonParams(colors=6, edges=2)
    assert [s.params for s in style.post] == [{}, {"amount": 0.3}]
    assert not (tmp_path / "comic" / "config.json").exists()
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no staging left


def test_upscaler_round_trip(tmp_path: Path) -> None:
    style = write_bundle(tmp_path, UPSCALER, thumbnail=False).style
    assert style.manifest == UPSCALER
    assert style.upscaler is not None and (style.upscaler.tile, style.upscaler.tile_overlap) == (
        128,
        8,
    )


def test_onnx_round_trip(tmp_path: Path) -> None:
    io = TensorIO(range=ValueRange.UNIT, layout=Layout.NCHW, size_multiple=8, scale=1)
    manifest = onnx_manifest(io, name="neg", max_side=512, tile=60, tile_overlap=8)
    assert manifest.model.tile == 64  # rounded up to the size multiple
    model = tiny_models.negate(tmp_path / "src" / "neg.onnx")
    written = write_bundle(
        tmp_path / "styles",
        manifest,
        model=model,
        config={"family": "onnx"},
        notice="MIT",
        thumbnail=False,
    )
    style = written.style
    assert style.model is not None and style.model.path == (style.path / "model.onnx").resolve()
    assert style.model.convention() == io.convention()
    assert manifest_toml(style.manifest, bundle=style.path) == manifest_toml(manifest)
    assert json.loads((style.path / "config.json").read_text()) == {"family": "onnx"}
    assert (style.path / "NOTICE.txt").read_text() == "MIT"
    assert (style.path / "style.toml").read_text() == manifest_toml(manifest)


def test_an_onnx_style_needs_its_model(tmp_path: Path) -> None:
    manifest = onnx_manifest(TensorIO(range=ValueRange.UNIT), name="neg")
    with pytest.raises(BundleError, match="needs its model file"):
        write_bundle(tmp_path, manifest)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_bad_values_from_the_command_line_name_the_key() -> None:
    io = TensorIO(range=ValueRange.SIGNED)
    with pytest.raises(BundleError, match=r"\[model\] tile_overlap: must be less than tile / 2"):
        onnx_manifest(io, name="x", tile=64, tile_overlap=40)
    with pytest.raises(BundleError, match=r"\[pipeline\] max_side: must be an integer from 16"):
        onnx_manifest(io, name="x", max_side=8)
    with pytest.raises(BundleError, match="--name 'X Y': use 1-48 lowercase"):
        onnx_manifest(io, name="X Y")


def test_existing_bundle_is_replaced_only_with_force(tmp_path: Path) -> None:
    write_bundle(tmp_path, BUILTIN, thumbnail=False)
    with pytest.raises(BundleError, match="already exists"):
        write_bundle(tmp_path, BUILTIN, thumbnail=False)
    other = BUILTIN.model_copy(update={"title": "Comic 2"})
    assert write_bundle(tmp_path, other, thumbnail=False, force=True).style.title == "Comic 2"
