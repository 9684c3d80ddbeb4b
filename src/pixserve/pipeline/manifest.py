"""The ``style.toml`` format, defined once: what the reader checks and the writer writes.

::

    Manifest: one of, by ``kind``           name, title, description, kind, fast, and
    ├── BuiltinManifest   kind = "builtin"    [builtin]  OperatorSpec
    ├── OnnxManifest      kind = "onnx"       [model]    ModelSpec (pipeline/model_spec.py)
    ├── UpscalerManifest  kind = "upscaler"   [upscaler] UpscalerSpec
    └── NeuralStyleManifest kind = "neural-style"
                                              [neural_style] NeuralStyleSpec
                                                         (pipeline/neural_style_spec.py)
    each with             [input]    InputSpec: kind (photo | sketch), aspect
                          [pipeline] PipelineSpec: max_side, post (StepSpec…), face (FaceSpec)
                          [preview]  PreviewSpec, optional (pipeline/preview.py)
                          [translations.<lang>]  TranslationSpec: title, description

Every table refuses unknown keys, keeps TOML's types and is frozen (see
:mod:`pixserve.pipeline.tables`); a variant has exactly the tables its kind may have.
Keys, types, defaults and limits are written here (and in the two tables the steps import
from below) and nowhere else: :func:`read_manifest` validates a parsed file,
:func:`manifest_toml` writes one, and :func:`pixserve.pipeline.load_bundle` turns the
validation errors into messages naming the file and the key
(:mod:`pixserve.pipeline.manifest_errors`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import tomli_w
from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from pixserve.core.i18n import DEFAULT_LANGUAGE, LANGUAGES
from pixserve.pipeline.faces import FACE_DETECTORS
from pixserve.pipeline.model_spec import ModelSpec
from pixserve.pipeline.neural_style_spec import NeuralStyleSpec
from pixserve.pipeline.operators import OPERATORS
from pixserve.pipeline.preview import PreviewSpec
from pixserve.pipeline.steps import POST_STEPS, make_post_step
from pixserve.pipeline.tables import BUNDLE, TABLE
from pixserve.pipeline.upscalers import DEFAULT_OVERLAP, DEFAULT_TILE, UPSCALERS

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,47}")
NAME_RULE = "1-48 lowercase letters, digits or '-', not starting with '-'"


class Kind(StrEnum):
    """What turns the image into the style: a classical operator or an ONNX model."""

    BUILTIN = "builtin"
    ONNX = "onnx"
    UPSCALER = "upscaler"  # one of pixserve.pipeline.upscalers.UPSCALERS
    NEURAL_STYLE = "neural-style"  # optimisation on workers (Gatys et al.), needs torch


class OperatorSpec(BaseModel):
    """The ``[builtin]`` table: the operator's registry name and its parsed parameters.

    ``params`` is the operator's own parameter dataclass (``CartoonParams`` …), built from
    the TOML table by ``OPERATORS[operator].parse`` and written back as a table.
    """

    model_config = TABLE

    operator: str
    params: Any = Field(default_factory=dict, validate_default=True)

    @field_validator("operator")
    @classmethod
    def _registered(cls, name: str) -> str:
        if name not in OPERATORS:
            raise ValueError(f"unknown operator {name!r} (known: {', '.join(sorted(OPERATORS))})")
        return name

    @field_validator("params")
    @classmethod
    def _parsed(cls, params: Any, info: ValidationInfo) -> Any:
        name = info.data.get("operator")
        if name is None:
            return params  # the operator's own error says what is wrong
        operator = OPERATORS[name]
        if isinstance(params, operator.params_type):
            return params
        if not isinstance(params, dict):
            raise ValueError("must be a table")
        try:
            return operator.parse(params)
        except (TypeError, ValueError) as exc:
            raise ValueError(str(exc)) from exc

    @field_serializer("params")
    def _as_table(self, params: Any) -> dict[str, Any]:
        return dataclasses.asdict(params)


class UpscalerSpec(BaseModel):
    """The ``[upscaler]`` table: a built-in upscaler's name and its tiling."""

    model_config = TABLE

    model: str
    tile: int = Field(default=DEFAULT_TILE, ge=32, le=4096)
    tile_overlap: int = Field(default=DEFAULT_OVERLAP, ge=0, le=1024)

    @field_validator("model")
    @classmethod
    def _registered(cls, name: str) -> str:
        if name not in UPSCALERS:
            raise ValueError(f"unknown upscaler {name!r} (known: {', '.join(UPSCALERS)})")
        return name

    @field_validator("tile_overlap")
    @classmethod
    def _overlap_below_half_a_tile(cls, overlap: int, info: ValidationInfo) -> int:
        tile = info.data.get("tile")
        if tile is not None and 2 * overlap >= tile:
            raise ValueError(f"must be less than tile / 2, got {overlap}")
        return overlap


class InputKind(StrEnum):
    """What a style is given: a photo, or a drawing (dark lines on white)."""

    PHOTO = "photo"
    SKETCH = "sketch"  # a sketch-to-image model: the page offers a sketch pad


class InputSpec(BaseModel):
    """The ``[input]`` table: what the style wants to be given."""

    model_config = TABLE

    #: ``"photo"``, or ``"sketch"`` for a model trained on line drawings.
    kind: InputKind = Field(default=InputKind.PHOTO, strict=False)  # TOML gives a string
    #: Width / height of the picture the style wants (the page's crop box keeps it); none:
    #: square for a face step or a fixed-size model, else any shape.
    aspect: float | None = Field(default=None, ge=0.1, le=10, strict=False)


class FaceSpec(BaseModel):
    """``[pipeline] face``: crop to the main face before the model."""

    model_config = TABLE

    #: No face: ``no_face_found`` when true, else the whole image.
    required: bool = True
    #: Added on every side, in face sizes.
    margin: float = Field(default=0.5, ge=0, le=4)
    #: Rotate first so the eyes are level.
    align: bool = False
    #: ``auto`` (yuface if installed) or a key of ``FACE_DETECTORS``.
    detector: str = "auto"

    @field_validator("detector")
    @classmethod
    def _registered(cls, name: str) -> str:
        known = ["auto", *FACE_DETECTORS]
        if name not in known:
            raise ValueError(f"must be one of {', '.join(map(repr, known))}, got {name!r}")
        return name


class StepSpec(BaseModel):
    """One entry of ``[pipeline] post``: a post-step registry name and its parameters.

    In TOML an entry is a name (``"sharpen"``) or a table with ``step`` and the parameters
    (``{ step = "sharpen", amount = 0.4 }``); the step is built once here, so bad
    parameters fail when the bundle loads, not on the first job.
    """

    model_config = TABLE

    name: str
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _buildable(self) -> StepSpec:
        if self.name not in POST_STEPS:
            known = ", ".join(sorted(POST_STEPS))
            raise ValueError(f"unknown step {self.name!r} (known: {known})")
        try:
            make_post_step(self.name, dict(self.params))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"bad parameters for {self.name!r}: {exc}") from exc
        return self


def _step_from_toml(entry: Any) -> Any:
    if isinstance(entry, StepSpec):
        return entry
    if isinstance(entry, str):
        return {"name": entry}
    if isinstance(entry, dict) and isinstance(entry.get("step"), str):
        return {"name": entry["step"], "params": {k: v for k, v in entry.items() if k != "step"}}
    raise ValueError('must be a step name or a table like { step = "sharpen" }')


def _step_to_toml(step: StepSpec) -> str | dict[str, Any]:
    return {"step": step.name, **step.params} if step.params else step.name


PostEntry = Annotated[StepSpec, BeforeValidator(_step_from_toml), PlainSerializer(_step_to_toml)]


class PipelineSpec(BaseModel):
    """The ``[pipeline]`` table: size limit, face crop and post steps around the model."""

    model_config = TABLE

    #: The longer side after the crop; images are shrunk to fit, never enlarged.
    max_side: int = Field(default=1024, ge=16, le=8192)
    post: tuple[PostEntry, ...] = Field(default=(), strict=False)  # TOML gives a list
    #: ``face = true`` is the default table; ``false`` (or no key) is no face step.
    face: FaceSpec | None = None

    @field_validator("face", mode="before")
    @classmethod
    def _face_from_toml(cls, value: Any) -> Any:
        if value is True:
            return FaceSpec()
        if value is False or value is None:
            return None
        if not isinstance(value, dict | FaceSpec):
            raise ValueError("must be true, false or a table")
        return value


class TranslationSpec(BaseModel):
    """A ``[translations.<lang>]`` table: the title and description in that language.

    A key left out falls back to the English one at the top level.
    """

    model_config = TABLE

    title: str | None = None
    description: str | None = None


class StyleManifest(BaseModel):
    """What every kind of style has: the top-level keys, ``[input]``, ``[pipeline]``,
    ``[preview]`` and ``[translations.<lang>]``."""

    model_config = TABLE

    #: The id used by the API (``style=monet``).
    name: str
    #: Shown in the UI; by default the name, capitalised.
    title: str
    description: str = ""
    kind: Kind = Field(strict=False)
    #: Cheap enough for the synchronous ``POST /v1/translate``.
    fast: bool = False
    input: InputSpec = InputSpec()
    pipeline: PipelineSpec = PipelineSpec()
    preview: PreviewSpec | None = None
    #: The title and description in other languages, by language code (``es``).
    translations: dict[str, TranslationSpec] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _default_title(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("title") is None:
            name = data.get("name")
            title = name.replace("-", " ").capitalize() if isinstance(name, str) else ""
            data = {**data, "title": title}
        return data

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        if not NAME_PATTERN.fullmatch(name):
            raise ValueError(f"{name!r} must be {NAME_RULE}")
        return name

    @field_validator("translations")
    @classmethod
    def _known_languages(cls, tables: dict[str, TranslationSpec]) -> dict[str, TranslationSpec]:
        for lang in tables:
            if lang == DEFAULT_LANGUAGE:
                raise ValueError(f"{lang!r} is the top-level title and description")
            if lang not in LANGUAGES:
                others = ", ".join(code for code in LANGUAGES if code != DEFAULT_LANGUAGE)
                raise ValueError(f"unknown language {lang!r} (known: {others})")
        return tables

    def title_in(self, lang: str) -> str:
        """The title in ``lang``; the English one where the bundle has no translation."""
        translation = self.translations.get(lang)
        return translation.title if translation and translation.title else self.title

    def description_in(self, lang: str) -> str:
        """The description in ``lang``; the English one where the bundle has none."""
        translation = self.translations.get(lang)
        if translation and translation.description:
            return translation.description
        return self.description


class BuiltinManifest(StyleManifest):
    """``kind = "builtin"``: a classical operator from ``OPERATORS``."""

    kind: Literal[Kind.BUILTIN] = Kind.BUILTIN
    builtin: OperatorSpec


class OnnxManifest(StyleManifest):
    """``kind = "onnx"``: an ONNX model in the bundle."""

    kind: Literal[Kind.ONNX] = Kind.ONNX
    model: ModelSpec


class UpscalerManifest(StyleManifest):
    """``kind = "upscaler"``: a built-in neural upscaler from ``UPSCALERS``."""

    kind: Literal[Kind.UPSCALER] = Kind.UPSCALER
    upscaler: UpscalerSpec


class NeuralStyleManifest(StyleManifest):
    """``kind = "neural-style"``: painted by optimisation against a style image."""

    kind: Literal[Kind.NEURAL_STYLE] = Kind.NEURAL_STYLE
    neural_style: NeuralStyleSpec


Manifest = Annotated[
    BuiltinManifest | OnnxManifest | UpscalerManifest | NeuralStyleManifest,
    Field(discriminator="kind"),
]

#: The variant of each kind.
VARIANTS: dict[Kind, type[StyleManifest]] = {
    Kind.BUILTIN: BuiltinManifest,
    Kind.ONNX: OnnxManifest,
    Kind.UPSCALER: UpscalerManifest,
    Kind.NEURAL_STYLE: NeuralStyleManifest,
}

_MANIFEST: TypeAdapter[Manifest] = TypeAdapter(Manifest)


def read_manifest(data: Mapping[str, Any], *, bundle: Path | None = None) -> Manifest:
    """Validate a parsed ``style.toml``; raise pydantic's ``ValidationError`` if it is bad.

    Keys are read by their TOML names only. With ``bundle`` (the folder), the files the
    manifest names are resolved in it and must exist there (see
    :mod:`pixserve.pipeline.tables`).
    """
    context = {BUNDLE: bundle} if bundle is not None else None
    return _MANIFEST.validate_python(data, by_alias=True, by_name=False, context=context)


def manifest_toml(manifest: StyleManifest, *, bundle: Path | None = None) -> str:
    """The ``style.toml`` text of ``manifest``: every key, defaults included.

    Files are written relative to ``bundle`` (needed when ``manifest`` was read from a
    bundle, whose paths are absolute).
    """
    context = {BUNDLE: bundle} if bundle is not None else None
    data = manifest.model_dump(mode="json", by_alias=True, exclude_none=True, context=context)
    if not data.get("translations"):
        data.pop("translations", None)  # no empty [translations] table
    # The kind's own table first, then [input], [pipeline], [preview] and [translations.*],
    # as people write them.
    shared = ("input", "pipeline", "preview", "translations")
    ordered = {k: v for k, v in data.items() if k not in shared}
    ordered |= {k: data[k] for k in shared if k in data}
    return tomli_w.dumps(ordered)
