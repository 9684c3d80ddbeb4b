"""The manifest models: one definition that the reader checks and the writer writes."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from pixserve.core.errors import BundleError
from pixserve.pipeline import (
    BuiltinManifest,
    InputKind,
    InputSpec,
    Kind,
    OnnxManifest,
    UpscalerManifest,
    load_bundle,
    manifest_toml,
    read_manifest,
)
from pixserve.pipeline.manifest import FaceSpec, OperatorSpec, PipelineSpec, StepSpec
from pixserve.pipeline.manifest_errors import problems
from pixserve.pipeline.operators import PencilParams
from tests.unit.pipeline.bundles import builtin_toml, write_bundle

BUILTIN = {
    "name": "sketchy",
    "title": "Sketchy",
    "description": "Pencil.",
    "kind": "builtin",
    "fast": True,
    "builtin": {"operator": "pencil", "params": {"color": True, "lines": 2}},
    "pipeline": {
        "max_side": 640,
        "post": ["sharpen", {"step": "sharpen", "amount": 0.3}],
        "face": {"required": False, "detector": "haar"},
    },
    "preview": {"max_side": 300, "watermark": "shop", "opacity": 0.5},
}
ONNX = {
    "name": "neg",
    "kind": "onnx",
    "model": {
        "range": "-1..1",
        "layout": "NHWC",
        "size_multiple": 8,
        "tile": 64,
        "tile_overlap": 8,
    },
}
UPSCALER = {"name": "big", "kind": "upscaler", "upscaler": {"model": "waifu2x-anime-2x"}}


@pytest.mark.parametrize(
    ("data", "variant"),
    [(BUILTIN, BuiltinManifest), (ONNX, OnnxManifest), (UPSCALER, UpscalerManifest)],
)
def test_written_text_reads_back_the_same(data: dict, variant: type) -> None:
    manifest = read_manifest(data)
    assert type(manifest) is variant
    text = manifest_toml(manifest)
    assert read_manifest(tomllib.loads(text)) == manifest


def test_defaults_live_in_the_models() -> None:
    manifest = read_manifest(ONNX)
    assert isinstance(manifest, OnnxManifest)
    assert (manifest.title, manifest.description, manifest.fast) == ("Neg", "", False)
    assert manifest.model.path == Path("model.onnx") and manifest.model.scale == 1
    assert manifest.pipeline == PipelineSpec(max_side=1024, post=(), face=None)
    assert read_manifest(UPSCALER).upscaler.tile == 256  # type: ignore[union-attr]


def test_face_true_is_the_default_table() -> None:
    manifest = read_manifest({**UPSCALER, "pipeline": {"face": True}})
    assert manifest.pipeline.face == FaceSpec()
    assert read_manifest({**UPSCALER, "pipeline": {"face": False}}).pipeline.face is None


def test_parsed_operator_params_are_written_back_as_a_table() -> None:
    manifest = read_manifest(BUILTIN)
    assert isinstance(manifest, BuiltinManifest)
    assert manifest.builtin.params == PencilParams(color=True, lines=2.0)
    written = tomllib.loads(manifest_toml(manifest))
    assert written["builtin"]["params"]["color"] is True
    assert written["pipeline"]["post"] == ["sharpen", {"step": "sharpen", "amount": 0.3}]


def test_built_in_code_like_read_from_toml() -> None:
    manifest = BuiltinManifest(
        name="sketchy",
        builtin=OperatorSpec(operator="pencil"),
        pipeline=PipelineSpec(post=(StepSpec(name="sharpen"),)),
    )
    assert manifest.kind is Kind.BUILTIN and manifest.title == "Sketchy"
    assert read_manifest(tomllib.loads(manifest_toml(manifest))) == manifest


@pytest.mark.parametrize(
    ("data", "line"),
    [
        ({**ONNX, "model": {"range": "0..1", "scale": "2"}}, "[model] scale: must be an integer"),
        ({**ONNX, "fast": 1}, "fast: must be true or false, got 1"),
        ({**ONNX, "model": {"range": "0..1", "path": "x.onnx"}}, "[model] path: unknown key"),
        ({**UPSCALER, "pipeline": {"max_side": True}}, "[pipeline] max_side: must be an integer"),
        ({**UPSCALER, "title": 5}, "title: must be a string, got 5"),
        ({**UPSCALER, "upscaler": {"model": "waifu2x-anime-2x", "tile": 8}}, "[upscaler] tile"),
        ({**UPSCALER, "model": {"range": "0..1"}}, 'only a kind = "onnx" style has a [model]'),
        ({**ONNX, "upscaler": {"model": "x"}}, 'only a kind = "upscaler" style has'),
        ({"name": "x", "kind": "onnx"}, "[model] range: missing (one of '0..1', '-1..1'"),
        (
            {"name": "x", "kind": 3},
            "kind: must be one of 'builtin', 'onnx', 'upscaler', 'neural-style', got 3",
        ),
    ],
)
def test_problems_name_the_table_and_key(data: dict, line: str) -> None:
    with pytest.raises(ValidationError) as info:
        read_manifest(data)
    assert any(line in problem for problem in problems(info.value)), problems(info.value)


def test_every_problem_is_reported_once() -> None:
    data = {**UPSCALER, "fast": "yes", "colour": 1, "pipeline": {"max_side": 0, "size": 2}}
    with pytest.raises(ValidationError) as info:
        read_manifest(data)
    lines = problems(info.value)
    assert len(lines) == len(set(lines)) == 4
    assert lines[0] == "fast: must be true or false, got 'yes'"


def test_problems_of_a_manifest_built_in_code() -> None:
    with pytest.raises(ValidationError) as info:
        OnnxManifest.model_validate({"name": "x", "model": {"range": "0..1", "tile": 20}})
    assert problems(info.value, OnnxManifest) == [
        "[model] tile: must be 0 or ≥ 32 and a multiple of size_multiple, got 20"
    ]


def test_bundle_error_names_the_file_and_every_problem(tmp_path: Path) -> None:
    toml = builtin_toml("x", extra="fast = 1\ncolour = 3")
    bundle = write_bundle(tmp_path, "b", toml)
    with pytest.raises(BundleError) as info:
        load_bundle(bundle)
    assert info.value.message.startswith(f"{bundle / 'style.toml'}: ")
    assert "fast: must be true or false, got 1" in info.value.message
    assert "; colour: unknown key (allowed: builtin, description," in info.value.message


def test_loaded_paths_are_written_relative_to_the_bundle(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path, "neg", 'name = "neg"\nkind = "onnx"\n[model]\nrange = "0..1"\n')
    (bundle / "model.onnx").write_bytes(b"not read here")
    style = load_bundle(bundle)
    assert style.model is not None and style.model.path == (bundle / "model.onnx").resolve()
    text = manifest_toml(style.manifest, bundle=bundle)
    assert tomllib.loads(text)["model"]["file"] == "model.onnx"


def _neural(tmp_path: Path, table: str) -> Path:
    folder = tmp_path / "ns"
    folder.mkdir(exist_ok=True)
    (folder / "style.png").write_bytes(b"not checked here")
    (folder / "style.toml").write_text(
        f'name = "ns"\nkind = "neural-style"\n[neural_style]\nstyle_image = "style.png"\n{table}\n'
    )
    return folder


def test_a_neural_style_manifest_reads_and_writes_back(tmp_path: Path) -> None:
    folder = _neural(tmp_path, 'network = "vgg19"\npasses = [{ size = 350, iterations = 400 }]')
    style = load_bundle(folder)
    spec = style.neural_style
    assert spec is not None and spec.network == "vgg19" and spec.iterations == 400
    assert spec.style_image == (folder / "style.png").resolve()
    assert 'style_image = "style.png"' in manifest_toml(style.manifest, bundle=folder)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("", "[neural_style] passes: missing"),
        ("passes = [{ size = 8, iterations = 1 }]", "passes[0].size"),
        (
            'content_layers = ["relu5_4"]\npasses = [{ size = 64, iterations = 1 }]',
            "vgg16 has no layer 'relu5_4'",
        ),
        (
            "style_layer_weights = [1.0]\npasses = [{ size = 64, iterations = 1 }]",
            "style_layer_weights has 1 weights for 5 style layers",
        ),
        (
            'optimiser = "sgd"\npasses = [{ size = 64, iterations = 1 }]',
            "[neural_style] optimiser: unknown key",
        ),
    ],
)
def test_bad_neural_style_tables_are_named(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(BundleError) as info:
        load_bundle(_neural(tmp_path, table))
    assert message in info.value.message


def test_input_table_declares_a_sketch_style() -> None:
    sketch = read_manifest({**ONNX, "input": {"kind": "sketch", "aspect": 0.75}})
    assert (sketch.input.kind, sketch.input.aspect) == (InputKind.SKETCH, 0.75)
    assert read_manifest(tomllib.loads(manifest_toml(sketch))) == sketch
    assert '[input]\nkind = "sketch"' in manifest_toml(sketch)
    plain = read_manifest(ONNX)
    assert plain.input == InputSpec() and plain.input.kind is InputKind.PHOTO


@pytest.mark.parametrize(
    ("table", "line"),
    [
        ({"kind": "drawing"}, "[input] kind: must be one of 'photo', 'sketch', got 'drawing'"),
        ({"aspect": 0}, "[input] aspect"),
        ({"shape": "square"}, "[input] shape: unknown key"),
    ],
)
def test_bad_input_tables(table: dict, line: str) -> None:
    with pytest.raises(ValidationError) as info:
        read_manifest({**ONNX, "input": table})
    assert any(line in problem for problem in problems(info.value)), problems(info.value)


def test_translations_give_the_title_and_description_in_a_language() -> None:
    es = {"title": "Bocetos", "description": "Lápiz."}
    manifest = read_manifest({**BUILTIN, "translations": {"es": es}})
    assert (manifest.title_in("es"), manifest.description_in("es")) == ("Bocetos", "Lápiz.")
    assert (manifest.title_in("en"), manifest.description_in("en")) == ("Sketchy", "Pencil.")
    assert manifest.title_in("fr") == "Sketchy"  # no such language: English
    text = manifest_toml(manifest)
    assert '[translations.es]\ntitle = "Bocetos"' in text
    assert read_manifest(tomllib.loads(text)) == manifest
    assert "translations" not in manifest_toml(read_manifest(BUILTIN))  # no empty table


def test_a_key_a_translation_leaves_out_is_the_english_one() -> None:
    manifest = read_manifest({**BUILTIN, "translations": {"es": {"title": "Bocetos"}}})
    assert (manifest.title_in("es"), manifest.description_in("es")) == ("Bocetos", "Pencil.")


@pytest.mark.parametrize(
    ("translations", "line"),
    [
        ({"fr": {"title": "Croquis"}}, "[translations]: unknown language 'fr' (known: es)"),
        ({"en": {"title": "Sketch"}}, "[translations]: 'en' is the top-level title and"),
        (
            {"es": {"title": "Bocetos", "subtitle": "x"}},
            "[translations.es] subtitle: unknown key (allowed: description, title)",
        ),
        ({"es": {"title": 3}}, "[translations.es] title: must be a string, got 3"),
        ({"es": "Bocetos"}, "[translations] es: must be a table, got 'Bocetos'"),
        ("Bocetos", "[translations]: must be a table, got 'Bocetos'"),
    ],
)
def test_bad_translations_are_named(translations: object, line: str) -> None:
    with pytest.raises(ValidationError) as info:
        read_manifest({**BUILTIN, "translations": translations})
    assert any(problem.startswith(line) for problem in problems(info.value)), problems(info.value)


def test_a_bundle_with_an_unknown_language_names_the_file(tmp_path: Path) -> None:
    toml = builtin_toml("x") + '[translations.de]\ntitle = "Karikatur"\n'
    bundle = write_bundle(tmp_path, "b", toml)
    with pytest.raises(BundleError) as info:
        load_bundle(bundle)
    message = info.value.message
    assert message == f"{bundle / 'style.toml'}: [translations]: unknown language 'de' (known: es)"
