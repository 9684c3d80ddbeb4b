"""Reading and checking a style bundle: a folder with ``style.toml``, a model, a thumbnail.

Every problem is a :class:`BundleError` whose message names the file and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pixserve.core.errors import BundleError
from pixserve.pipeline.operators import OPERATORS
from pixserve.pipeline.preview import DEFAULT_PREVIEW_SIDE, PreviewSpec, load_mark
from pixserve.pipeline.steps import POST_STEPS, make_post_step
from pixserve.pipeline.style import (
    Channels,
    FaceSpec,
    Kind,
    Layout,
    ModelSpec,
    OperatorSpec,
    StepSpec,
    Style,
    UpscalerSpec,
    ValueRange,
)
from pixserve.pipeline.upscalers import UPSCALERS

MANIFEST = "style.toml"
THUMBNAIL = "thumbnail.jpg"
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,47}")
DEFAULT_MAX_SIDE = 1024
MAX_SIDE_LIMITS = (16, 8192)

_TOP_KEYS = {
    "name",
    "title",
    "description",
    "kind",
    "fast",
    "builtin",
    "model",
    "pipeline",
    "preview",
    "upscaler",
}
_BUILTIN_KEYS = {"operator", "params"}
_MODEL_KEYS = {
    "file",
    "layout",
    "range",
    "channels",
    "size_multiple",
    "scale",
    "tile",
    "tile_overlap",
}
_PIPELINE_KEYS = {"max_side", "post", "face"}
_UPSCALER_KEYS = {"model", "tile", "tile_overlap"}
_FACE_KEYS = {"required", "margin", "align", "detector"}
_PREVIEW_KEYS = {"max_side", "watermark", "watermark_image", "opacity"}

E = TypeVar("E", Kind, Layout, ValueRange, Channels)


def load_bundle(folder: Path | str) -> Style:
    """Read ``folder/style.toml`` and return the :class:`Style` it describes.

    Raises :class:`BundleError` naming the file and key for anything missing, unknown or
    out of range, including an unknown operator or post step and a missing model file.
    """
    folder = Path(folder)
    manifest = folder / MANIFEST
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(f"{manifest}: file not found (a bundle needs a {MANIFEST})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleError(f"{manifest}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise BundleError(f"{manifest}: not valid TOML: {exc}") from exc
    return _Reader(manifest).style(data)


class _Reader:
    """Checks one parsed manifest; knows the file name for error messages."""

    def __init__(self, manifest: Path) -> None:
        self.manifest = manifest
        self.folder = manifest.parent

    def fail(self, key: str, problem: str) -> BundleError:
        return BundleError(f"{self.manifest}: {key}: {problem}")

    def style(self, data: dict[str, Any]) -> Style:
        self.no_unknown_keys(data, _TOP_KEYS, "")
        name = self.text(data, "name", required=True)
        if not NAME_PATTERN.fullmatch(name):
            raise self.fail(
                "name",
                f"{name!r} must be 1-48 lowercase letters, digits or '-', not starting with '-'",
            )
        kind = self.choice(data, "kind", Kind, None)
        builtin = self.table(data, "builtin")
        model = self.table(data, "model")
        pipeline = self.table(data, "pipeline")
        preview = self.table(data, "preview")
        if kind is Kind.BUILTIN and model is not None:
            raise self.fail("[model]", 'only a kind = "onnx" style has a [model] table')
        if kind is Kind.ONNX and builtin is not None:
            raise self.fail("[builtin]", 'only a kind = "builtin" style has a [builtin] table')
        upscaler = self.table(data, "upscaler")
        if (upscaler is not None) != (kind is Kind.UPSCALER):
            raise self.fail("[upscaler]", 'a kind = "upscaler" style, and only it, has [upscaler]')
        if kind is Kind.UPSCALER and (model is not None or builtin is not None):
            raise self.fail("kind", 'a kind = "upscaler" style has no [model] or [builtin]')
        thumbnail = self.folder / THUMBNAIL
        return Style(
            name=name,
            title=self.text(data, "title", default=name.replace("-", " ").capitalize()),
            description=self.text(data, "description", default=""),
            kind=kind,
            fast=self.boolean(data, "fast", default=False),
            max_side=self.max_side(pipeline or {}),
            path=self.folder,
            thumbnail=thumbnail if thumbnail.is_file() else None,
            model=self.model(model or {}) if kind is Kind.ONNX else None,
            builtin=self.operator(builtin or {}) if kind is Kind.BUILTIN else None,
            post=self.post(pipeline or {}),
            preview=self.preview(preview) if preview is not None else None,
            upscaler=self.upscaler(upscaler) if upscaler is not None else None,
            face=self.face((pipeline or {}).get("face")),
        )

    def upscaler(self, table: dict[str, Any]) -> UpscalerSpec:
        self.no_unknown_keys(table, _UPSCALER_KEYS, "upscaler")
        name = self.text(table, "model", required=True, section="upscaler")
        if name not in UPSCALERS:
            known = ", ".join(UPSCALERS)
            raise self.fail("[upscaler] model", f"unknown upscaler {name!r} (known: {known})")
        tile = self.integer(table, "tile", 256, (32, 4096), section="upscaler")
        overlap = self.integer(table, "tile_overlap", 16, (0, 1024), section="upscaler")
        if 2 * overlap >= tile:
            raise self.fail("[upscaler] tile_overlap", f"must be less than tile / 2, got {overlap}")
        return UpscalerSpec(model=name, tile=tile, tile_overlap=overlap)

    def face(self, value: Any) -> FaceSpec | None:
        if value is None or value is False:
            return None
        if value is True:
            return FaceSpec()
        if not isinstance(value, dict):
            raise self.fail("[pipeline] face", "must be true, false or a table")
        self.no_unknown_keys(value, _FACE_KEYS, "pipeline.face")
        try:
            return FaceSpec(**value)
        except (TypeError, ValueError) as exc:
            raise self.fail("[pipeline] face", str(exc)) from exc

    def operator(self, table: dict[str, Any]) -> OperatorSpec:
        self.no_unknown_keys(table, _BUILTIN_KEYS, "builtin")
        name = self.text(table, "operator", required=True, section="builtin")
        if name not in OPERATORS:
            known = ", ".join(sorted(OPERATORS))
            raise self.fail("[builtin] operator", f"unknown operator {name!r} (known: {known})")
        params = self.table(table, "params", section="builtin") or {}
        try:
            parsed = OPERATORS[name].parse(params)
        except (TypeError, ValueError) as exc:
            raise self.fail("[builtin] params", str(exc)) from exc
        return OperatorSpec(operator=name, params=parsed)

    def model(self, table: dict[str, Any]) -> ModelSpec:
        self.no_unknown_keys(table, _MODEL_KEYS, "model")
        file = self.text(table, "file", default="model.onnx", section="model")
        path = (self.folder / file).resolve()
        if not path.is_relative_to(self.folder.resolve()):
            raise self.fail("[model] file", f"{file!r} must be inside the bundle folder")
        if not path.is_file():
            raise self.fail("[model] file", f"model file {file!r} not found in {self.folder}")
        if "range" not in table:
            raise self.fail("[model] range", "missing (one of '0..1', '-1..1', '0..255')")
        return ModelSpec(
            path=path,
            layout=self.choice(table, "layout", Layout, Layout.NCHW, section="model"),
            range=self.choice(table, "range", ValueRange, None, section="model"),
            channels=self.choice(table, "channels", Channels, Channels.RGB, section="model"),
            size_multiple=self.integer(table, "size_multiple", 1, (1, 512), section="model"),
            scale=self.integer(table, "scale", 1, (1, 16), section="model"),
            **self.tiling(table),
        )

    def tiling(self, table: dict[str, Any]) -> dict[str, int]:
        tile = self.integer(table, "tile", 0, (0, 8192), section="model")
        overlap = self.integer(table, "tile_overlap", 0, (0, 4096), section="model")
        multiple = table.get("size_multiple", 1)
        if tile and (tile < 32 or tile % multiple):
            raise self.fail(
                "[model] tile", f"must be 0 or ≥ 32 and a multiple of size_multiple, got {tile}"
            )
        if tile and not 0 <= 2 * overlap < tile:
            raise self.fail("[model] tile_overlap", f"must be less than tile / 2, got {overlap}")
        return {"tile": tile, "tile_overlap": overlap}

    def max_side(self, table: dict[str, Any]) -> int:
        self.no_unknown_keys(table, _PIPELINE_KEYS, "pipeline")
        return self.integer(
            table, "max_side", DEFAULT_MAX_SIDE, MAX_SIDE_LIMITS, section="pipeline"
        )

    def post(self, table: dict[str, Any]) -> tuple[StepSpec, ...]:
        entries = table.get("post", [])
        if not isinstance(entries, list):
            raise self.fail("[pipeline] post", "must be a list of step names or tables")
        specs = []
        for i, entry in enumerate(entries):
            key = f"[pipeline] post[{i}]"
            if isinstance(entry, str):
                name, params = entry, {}
            elif isinstance(entry, dict) and isinstance(entry.get("step"), str):
                params = {k: v for k, v in entry.items() if k != "step"}
                name = entry["step"]
            else:
                raise self.fail(key, 'must be a step name or a table like { step = "sharpen" }')
            if name not in POST_STEPS:
                known = ", ".join(sorted(POST_STEPS))
                raise self.fail(key, f"unknown step {name!r} (known: {known})")
            try:
                make_post_step(name, params)  # fail now, not on the first job
            except (TypeError, ValueError) as exc:
                raise self.fail(key, f"bad parameters for {name!r}: {exc}") from exc
            specs.append(StepSpec(name=name, params=params))
        return tuple(specs)

    def preview(self, table: dict[str, Any]) -> PreviewSpec:
        self.no_unknown_keys(table, _PREVIEW_KEYS, "preview")
        image = None
        if "watermark_image" in table:
            file = self.text(table, "watermark_image", required=True, section="preview")
            image = (self.folder / file).resolve()
            if not image.is_relative_to(self.folder.resolve()) or not image.is_file():
                raise self.fail(
                    "[preview] watermark_image", f"{file!r} must be a file inside the bundle"
                )
            try:
                load_mark(image)
            except ValueError as exc:
                raise self.fail("[preview] watermark_image", str(exc)) from exc
        opacity = table.get("opacity", 0.35)
        if isinstance(opacity, bool) or not isinstance(opacity, int | float):
            raise self.fail("[preview] opacity", f"must be a number, got {opacity!r}")
        if not 0.0 <= float(opacity) <= 1.0:
            raise self.fail("[preview] opacity", f"must be from 0 to 1, got {opacity!r}")
        return PreviewSpec(
            max_side=self.integer(
                table, "max_side", DEFAULT_PREVIEW_SIDE, (16, 4096), section="preview"
            ),
            watermark=self.text(table, "watermark", default="preview", section="preview"),
            watermark_image=image,
            opacity=float(opacity),
        )

    # -- typed look-ups ---------------------------------------------------------------------

    def no_unknown_keys(self, table: Mapping[str, Any], allowed: set[str], section: str) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            where = f"[{section}] " if section else ""
            raise self.fail(
                f"{where}{unknown[0]}", f"unknown key (allowed: {', '.join(sorted(allowed))})"
            )

    def table(self, data: Mapping[str, Any], key: str, section: str = "") -> dict[str, Any] | None:
        value = data.get(key)
        if value is not None and not isinstance(value, dict):
            raise self.fail(_label(section, key), "must be a table")
        return value

    def text(
        self,
        data: Mapping[str, Any],
        key: str,
        *,
        default: str = "",
        required: bool = False,
        section: str = "",
    ) -> str:
        if key not in data:
            if required:
                raise self.fail(_label(section, key), "missing")
            return default
        value = data[key]
        if not isinstance(value, str) or (required and not value):
            raise self.fail(_label(section, key), f"must be a non-empty string, got {value!r}")
        return value

    def boolean(self, data: Mapping[str, Any], key: str, *, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}")
        return value

    def integer(
        self,
        data: Mapping[str, Any],
        key: str,
        default: int,
        limits: tuple[int, int],
        *,
        section: str,
    ) -> int:
        value = data.get(key, default)
        low, high = limits
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(
                _label(section, key), f"must be an integer from {low} to {high}, got {value!r}"
            )
        return value

    def choice(
        self,
        data: Mapping[str, Any],
        key: str,
        enum: type[E],
        default: E | None,
        *,
        section: str = "",
    ) -> E:
        allowed = ", ".join(repr(m.value) for m in enum)
        if key not in data:
            if default is None:
                raise self.fail(_label(section, key), f"missing (one of {allowed})")
            return default
        value = data[key]
        try:
            return enum(value)
        except ValueError:
            raise self.fail(
                _label(section, key), f"must be one of {allowed}, got {value!r}"
            ) from None


def _label(section: str, key: str) -> str:
    return f"[{section}] {key}" if section else key
