"""A manifest's validation errors as people read them: ``[model] range: must be one of …``.

Pydantic says where (a location such as ``("onnx", "model", "range")``) and what (an error
type with its input); :func:`problems` turns that into the table and key as written in
``style.toml`` and a sentence, using the manifest models themselves for the allowed keys,
the choices of an enum and the limits of a number.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from pixserve.pipeline.manifest import VARIANTS, Kind, StyleManifest

_KINDS = ", ".join(repr(k.value) for k in Kind)
_INTEGER_ERRORS = {"int_type", "int_parsing", "int_from_float"}
_NUMBER_ERRORS = {"float_type", "float_parsing", "finite_number"}
_LIMIT_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def problems(error: ValidationError, variant: type[StyleManifest] | None = None) -> list[str]:
    """One ``"<where>: <what>"`` line per problem, in file order, without repeats.

    ``error`` comes from :func:`~pixserve.pipeline.manifest.read_manifest`, or from
    building the manifest model ``variant`` (``OnnxManifest(...)``) in code.
    """
    lines: list[str] = []
    for details in error.errors():
        for line in _lines(details, variant):
            if line not in lines:
                lines.append(line)
    return lines


@dataclass(frozen=True)
class _Place:
    """Where an error is: its label, the field there, and whether that is a whole table."""

    label: str
    field: FieldInfo | None
    is_table: bool


def _lines(details: ErrorDetails, variant: type[StyleManifest] | None) -> Iterator[str]:
    kind, loc = details["type"], details["loc"]
    if kind == "union_tag_not_found":
        yield f"kind: missing (one of {_KINDS})"
        return
    if kind == "union_tag_invalid":
        data = details["input"]
        value = data.get("kind") if isinstance(data, dict) else details.get("ctx", {}).get("tag")
        yield f"kind: must be one of {_KINDS}, got {value!r}"
        return
    if variant is None and loc and loc[0] in set(Kind):
        variant, loc = VARIANTS[Kind(loc[0])], loc[1:]  # read_manifest: the kind comes first
    if variant is None:
        yield f"{'.'.join(map(str, loc)) or 'style.toml'}: {details['msg']}"
        return
    if kind == "extra_forbidden":
        yield _unknown_key(variant, loc)
        return
    place = _place(variant, loc)
    sub = _model_in(place.field) if place.field is not None else None
    if kind == "missing" and place.is_table and sub is not None:
        # A missing table reads as its required keys missing: "[builtin] operator: missing".
        for key, field in _toml_keys(sub).items():
            if field.is_required():
                yield f"{place.label} {key}: {_missing(field)}"
        return
    yield f"{place.label}: {_problem(details, place.field)}"


def _unknown_key(variant: type[StyleManifest], loc: tuple[int | str, ...]) -> str:
    *parents, key = loc
    if not parents:
        for kind, other in VARIANTS.items():
            if key in _tables(other) and key not in _tables(variant):
                return f'[{key}]: only a kind = "{kind.value}" style has a [{key}] table'
        return f"{key}: unknown key (allowed: {', '.join(sorted(_toml_keys(variant)))})"
    field = _place(variant, tuple(parents)).field
    table = _model_in(field) if field is not None else None
    allowed = ", ".join(sorted(_toml_keys(table))) if table is not None else "none"
    return f"[{'.'.join(map(str, parents))}] {key}: unknown key (allowed: {allowed})"


def _place(variant: type[BaseModel], loc: tuple[int | str, ...]) -> _Place:
    """Follow ``loc`` through the models; tables become ``[a.b]``, keys follow them."""
    model: type[BaseModel] | None = variant
    field: FieldInfo | None = None
    sections: list[str] = []
    keys: list[str] = []
    is_table = False
    keyed = False  # the last part was a table of tables ([translations]): a key of it follows
    for part in loc:
        if isinstance(part, int):
            if keys:
                keys[-1] += f"[{part}]"
            model = _model_in(field) if field is not None else None
            is_table = False
            continue
        if keyed:
            # [translations.es]: the key names a table of the field's model; field stays.
            keyed = False
            is_table = model is not None and not keys
            (sections if is_table else keys).append(part)
            continue
        field = _field(model, part) if model is not None else None
        model = _model_in(field) if field is not None else None
        is_table = model is not None and not keys and not _is_sequence(field)
        keyed = is_table and _is_mapping(field)
        (sections if is_table else keys).append(part)
    if is_table and len(sections) > 1 and not keys:
        # A nested table as a whole ("face = 3") is a key of its parent table.
        keys.append(sections.pop())
    label = " ".join(filter(None, [f"[{'.'.join(sections)}]" if sections else "", ".".join(keys)]))
    return _Place(label or "style.toml", field, is_table and not keys)


def _problem(details: ErrorDetails, field: FieldInfo | None) -> str:
    kind, value = details["type"], details.get("input")
    if kind == "missing":
        return _missing(field)
    if kind in _INTEGER_ERRORS or kind in _NUMBER_ERRORS or kind in _LIMIT_ERRORS:
        what = "a number" if field is not None and field.annotation is float else "an integer"
        low, high = _limits(field)
        if low is not None and high is not None:
            return f"must be {what} from {low} to {high}, got {value!r}"
        return f"must be {what}, got {value!r}"
    if kind == "bool_type":
        return f"must be true or false, got {value!r}"
    if kind == "string_type":
        return f"must be a string, got {value!r}"
    if kind == "path_type":
        return f"must be a file name (a string), got {value!r}"
    if kind == "enum":
        return f"must be one of {_choices(field)}, got {value!r}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a table, got {value!r}"
    if kind in ("tuple_type", "list_type"):
        return f"must be a list, got {value!r}"
    if kind in ("value_error", "assertion_error"):
        return str(details.get("ctx", {}).get("error", details["msg"]))
    return str(details["msg"])


def _missing(field: FieldInfo | None) -> str:
    choices = _choices(field)
    return f"missing (one of {choices})" if choices else "missing"


def _choices(field: FieldInfo | None) -> str:
    enum = field.annotation if field is not None else None
    if isinstance(enum, type) and issubclass(enum, Enum):
        return ", ".join(repr(member.value) for member in enum)
    return ""


def _limits(field: FieldInfo | None) -> tuple[Any, Any]:
    low = high = None
    for rule in field.metadata if field is not None else ():
        if isinstance(rule, annotated_types.Ge):
            low = rule.ge
        elif isinstance(rule, annotated_types.Le):
            high = rule.le
    return low, high


def _toml_keys(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """The model's fields by their names in ``style.toml`` (``file``, not ``path``)."""
    keys = {}
    for name, field in model.model_fields.items():
        alias = field.validation_alias
        keys[alias if isinstance(alias, str) else field.alias or name] = field
    return keys


def _field(model: type[BaseModel], key: str) -> FieldInfo | None:
    return _toml_keys(model).get(key)


def _tables(variant: type[BaseModel]) -> set[str]:
    return {
        key
        for key, field in _toml_keys(variant).items()
        if _model_in(field) is not None and not _is_sequence(field)
    }


def _model_in(field: FieldInfo) -> type[BaseModel] | None:
    """The model a field holds (``X``, ``X | None``, ``tuple[X, ...]``), if any."""
    return _find_model(field.annotation)


def _find_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _find_model(arg)
        if found is not None:
            return found
    return None


def _is_sequence(field: FieldInfo | None) -> bool:
    return field is not None and get_origin(field.annotation) in (tuple, list)


def _is_mapping(field: FieldInfo | None) -> bool:
    """A table of tables by key (``dict[str, TranslationSpec]``)."""
    return field is not None and get_origin(field.annotation) is dict
