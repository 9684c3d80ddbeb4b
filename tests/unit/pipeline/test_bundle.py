from __future__ import annotations

from pathlib import Path

import pytest

from pixserve.core.errors import BundleError
from pixserve.pipeline import Kind, Layout, ValueRange, load_bundle
from pixserve.pipeline.operators import CartoonParams
from tests.unit.inference import tiny_models
from tests.unit.pipeline.bundles import builtin_toml, onnx_toml, write_bundle


def test_reads_a_builtin_bundle(tmp_path: Path) -> None:
    toml = """
name = "comic"
title = "Comic"
description = "Inked."
kind = "builtin"
fast = true
[builtin]
operator = "cartoon"
params = { colors = 6, edges = 2 }
[pipeline]
max_side = 640
post = ["sharpen", { step = "sharpen", amount = 0.3 }]
"""
    bundle = write_bundle(tmp_path, "comic", toml)
    (bundle / "thumbnail.jpg").write_bytes(b"jpeg")
    style = load_bundle(bundle)
    assert (style.name, style.title, style.kind, style.fast) == (
        "comic",
        "Comic",
        Kind.BUILTIN,
        True,
    )
    assert style.max_side == 640
    assert style.thumbnail == bundle / "thumbnail.jpg"
    assert style.builtin is not None
    assert style.builtin.params == CartoonParams(colors=6, edges=2.0)
    assert [s.name for s in style.post] == ["sharpen", "sharpen"]
    assert style.post[1].params == {"amount": 0.3}
    assert style.info() == {
        "name": "comic",
        "title": "Comic",
        "description": "Inked.",
        "kind": "builtin",
        "fast": True,
        "limits": {"max_side": 640},
        "preview": False,
        "input": "photo",
        "crop_aspect": None,
        "group": None,
    }


def test_reads_an_onnx_bundle_with_defaults(tmp_path: Path) -> None:
    model = tiny_models.negate(tmp_path / "src.onnx")
    bundle = write_bundle(tmp_path, "neg", onnx_toml("neg", 'range = "-1..1"'), model)
    style = load_bundle(bundle)
    assert style.kind is Kind.ONNX
    assert style.model is not None
    assert style.model.path == (bundle / "model.onnx").resolve()
    assert style.model.layout is Layout.NCHW
    assert style.model.range is ValueRange.SIGNED
    assert (style.model.size_multiple, style.model.scale) == (1, 1)
    assert style.thumbnail is None
    assert style.fast is False
    assert style.max_side == 1024


BAD_BUILTINS = [
    ('name = "Bad Name"\nkind = "builtin"\n[builtin]\noperator = "cartoon"', "name"),
    ('name = "-x"\nkind = "builtin"\n[builtin]\noperator = "cartoon"', "name"),
    ('kind = "builtin"\n[builtin]\noperator = "cartoon"', "name: missing"),
    ('name = "x"\n[builtin]\noperator = "cartoon"', "kind: missing"),
    ('name = "x"\nkind = "gan"\n[builtin]\noperator = "cartoon"', "kind: must be one of"),
    ('name = "x"\nkind = "builtin"\n[builtin]\noperator = "cubism"', "unknown operator 'cubism'"),
    ('name = "x"\nkind = "builtin"\n[builtin]\nop = "cartoon"', "[builtin] op: unknown key"),
    ('name = "x"\nkind = "builtin"\n', "[builtin] operator: missing"),
    (builtin_toml("x", extra='colour = "red"'), "colour: unknown key"),
    (builtin_toml("x", extra="fast = 1"), "fast: must be true or false"),
    (builtin_toml("x") + "params = { colours = 3 }", "unknown parameter 'colours'"),
    (builtin_toml("x") + 'params = { colors = "3" }', "parameter 'colors' must be int"),
    (builtin_toml("x") + "params = { colors = 1 }", "colors must be between"),
    (builtin_toml("x") + "[pipeline]\nmax_side = 0", "[pipeline] max_side"),
    (builtin_toml("x") + "[pipeline]\nmax_side = 1.5", "[pipeline] max_side"),
    (builtin_toml("x") + '[pipeline]\npost = ["blur"]', "unknown step 'blur'"),
    (builtin_toml("x") + '[pipeline]\npost = "sharpen"', "post: must be a list"),
    (
        builtin_toml("x") + '[pipeline]\npost = [{ step = "sharpen", amount = 99 }]',
        "bad parameters for 'sharpen'",
    ),
    (
        builtin_toml("x") + '[pipeline]\npost = [{ step = "sharpen", sigma = 1 }]',
        "bad parameters for 'sharpen'",
    ),
    (builtin_toml("x") + '[model]\nrange = "0..1"', 'only a kind = "onnx"'),
    ("name = = 3", "not valid TOML"),
]


@pytest.mark.parametrize(("toml", "message"), BAD_BUILTINS)
def test_invalid_manifests_name_the_file_and_key(tmp_path: Path, toml: str, message: str) -> None:
    bundle = write_bundle(tmp_path, "b", toml)
    with pytest.raises(BundleError) as info:
        load_bundle(bundle)
    assert str(bundle / "style.toml") in info.value.message
    assert message in info.value.message


BAD_MODELS = [
    ("", "[model] range: missing"),
    ('range = "0..2"', "[model] range: must be one of '0..1', '-1..1', '0..255'"),
    ('range = "0..1"\nlayout = "CHW"', "[model] layout: must be one of"),
    ('range = "0..1"\nchannels = "RGBA"', "[model] channels"),
    ('range = "0..1"\nsize_multiple = 0', "[model] size_multiple"),
    ('range = "0..1"\nscale = "2"', "[model] scale"),
    ('range = "0..1"\ntile = 20', "[model] tile: must be 0 or ≥ 32"),
    ('range = "0..1"\nsize_multiple = 8\ntile = 100', "multiple of size_multiple"),
    ('range = "0..1"\ntile = 64\ntile_overlap = 32', "[model] tile_overlap"),
    ('range = "0..1"\ntiles = 64', "[model] tiles: unknown key"),
]


@pytest.mark.parametrize(("model_lines", "message"), BAD_MODELS)
def test_invalid_model_tables(tmp_path: Path, model_lines: str, message: str) -> None:
    model = tiny_models.negate(tmp_path / "src.onnx")
    bundle = write_bundle(tmp_path, "b", onnx_toml("b", model_lines), model)
    with pytest.raises(BundleError, match=r"style\.toml") as info:
        load_bundle(bundle)
    assert message in info.value.message


def test_missing_model_file(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path, "b", onnx_toml("b", 'range = "0..1"'))
    with pytest.raises(BundleError, match=r"\[model\] file: model file 'model.onnx' not found"):
        load_bundle(bundle)


def test_model_file_must_stay_inside_the_bundle(tmp_path: Path) -> None:
    tiny_models.negate(tmp_path / "outside.onnx")
    toml = 'name = "b"\nkind = "onnx"\n[model]\nfile = "../outside.onnx"\nrange = "0..1"\n'
    bundle = write_bundle(tmp_path, "b", toml)
    with pytest.raises(BundleError, match="inside the bundle"):
        load_bundle(bundle)


def test_onnx_style_cannot_have_a_builtin_table(tmp_path: Path) -> None:
    model = tiny_models.negate(tmp_path / "src.onnx")
    toml = onnx_toml("b", 'range = "0..1"') + '[builtin]\noperator = "cartoon"\n'
    bundle = write_bundle(tmp_path, "b", toml, model)
    with pytest.raises(BundleError, match=r"\[builtin\]"):
        load_bundle(bundle)


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"style\.toml: file not found"):
        load_bundle(tmp_path)


def test_the_documented_neural_style_example_loads() -> None:
    """docs/examples/mosaic-hd is what docs/styles.md tells people to copy."""
    root = Path(__file__).resolve().parents[3]
    style = load_bundle(root / "docs" / "examples" / "mosaic-hd")
    assert style.kind is Kind.NEURAL_STYLE
    assert style.neural_style is not None and [p.size for p in style.neural_style.passes] == [
        256,
        512,
    ]
