"""``Style``: one entry of the catalog — a bundle's checked manifest and where it lives.

The manifest's tables are re-exported here (``ModelSpec``, ``OperatorSpec`` …) with the
tensor enums, so ``from pixserve.pipeline.style import …`` keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixserve.core.i18n import DEFAULT_LANGUAGE
from pixserve.core.tensor_io import Channels, Layout, ValueRange
from pixserve.pipeline.manifest import (
    BuiltinManifest,
    FaceSpec,
    InputKind,
    InputSpec,
    Kind,
    Manifest,
    NeuralStyleManifest,
    OnnxManifest,
    OperatorSpec,
    StepSpec,
    UpscalerManifest,
    UpscalerSpec,
)
from pixserve.pipeline.model_spec import ModelSpec
from pixserve.pipeline.neural_style_spec import NeuralStyleSpec
from pixserve.pipeline.preview import PreviewSpec
from pixserve.pipeline.upscalers import UPSCALERS

__all__ = [
    "Channels",
    "FaceSpec",
    "InputKind",
    "InputSpec",
    "Kind",
    "Layout",
    "ModelSpec",
    "NeuralStyleSpec",
    "OperatorSpec",
    "PreviewSpec",
    "StepSpec",
    "Style",
    "UpscalerSpec",
    "ValueRange",
]


@dataclass(frozen=True)
class Style:
    """A style the service offers. Build it with :func:`pixserve.pipeline.load_bundle`.

    Everything ``style.toml`` says is in ``manifest`` (its files resolved inside ``path``);
    the properties below are short ways to it.
    """

    manifest: Manifest
    #: The bundle folder.
    path: Path
    thumbnail: Path | None = None

    @property
    def name(self) -> str:
        """The id used by the API."""
        return self.manifest.name

    @property
    def title(self) -> str:
        """Shown in the UI, in English (``info(lang)`` has it in other languages)."""
        return self.manifest.title

    @property
    def description(self) -> str:
        """One sentence for the UI, in English."""
        return self.manifest.description

    @property
    def kind(self) -> Kind:
        """What turns the image into the style."""
        return self.manifest.kind

    @property
    def fast(self) -> bool:
        """Cheap enough for the synchronous API."""
        return self.manifest.fast

    @property
    def max_side(self) -> int:
        """``[pipeline] max_side``."""
        return self.manifest.pipeline.max_side

    @property
    def post(self) -> tuple[StepSpec, ...]:
        """``[pipeline] post``."""
        return self.manifest.pipeline.post

    @property
    def face(self) -> FaceSpec | None:
        """``[pipeline] face``, or None without a face step."""
        return self.manifest.pipeline.face

    @property
    def input(self) -> InputSpec:
        """``[input]``: a photo or a sketch, and the aspect the style wants."""
        return self.manifest.input

    @property
    def crop_aspect(self) -> float | None:
        """Width / height of the picture the style wants, None for any: ``[input] aspect``,
        else square when a face step or a fixed-size model squares it anyway."""
        if self.input.aspect is not None:
            return self.input.aspect
        model = self.model
        if self.face is not None or (model is not None and model.input_size is not None):
            return 1.0
        return None

    @property
    def group(self) -> dict[str, object] | None:
        """The catalog group of a built-in upscaler (scale, content, noise removal)."""
        upscaler = self.upscaler
        return None if upscaler is None else UPSCALERS[upscaler.model].group()

    @property
    def preview(self) -> PreviewSpec | None:
        """``[preview]``, or None."""
        return self.manifest.preview

    @property
    def model(self) -> ModelSpec | None:
        """``[model]`` of a ``kind = "onnx"`` style, else None."""
        return self.manifest.model if isinstance(self.manifest, OnnxManifest) else None

    @property
    def builtin(self) -> OperatorSpec | None:
        """``[builtin]`` of a ``kind = "builtin"`` style, else None."""
        return self.manifest.builtin if isinstance(self.manifest, BuiltinManifest) else None

    @property
    def upscaler(self) -> UpscalerSpec | None:
        """``[upscaler]`` of a ``kind = "upscaler"`` style, else None."""
        return self.manifest.upscaler if isinstance(self.manifest, UpscalerManifest) else None

    @property
    def neural_style(self) -> NeuralStyleSpec | None:
        """``[neural_style]`` of a ``kind = "neural-style"`` style, else None."""
        if isinstance(self.manifest, NeuralStyleManifest):
            return self.manifest.neural_style
        return None

    def info(self, lang: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
        """The style as the HTTP catalog shows it (the web layer adds the thumbnail URL),
        its title and description in ``lang`` where the bundle translates them."""
        return {
            "name": self.name,
            "title": self.manifest.title_in(lang),
            "description": self.manifest.description_in(lang),
            "kind": self.kind.value,
            "fast": self.fast,
            "limits": {"max_side": self.max_side},
            "preview": self.preview is not None,
            "input": self.input.kind.value,
            "crop_aspect": self.crop_aspect,
            "group": self.group,
        }
