"""``Style``: one entry of the catalog, as read from its bundle's ``style.toml``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pixserve.pipeline.preview import PreviewSpec


class Kind(StrEnum):
    """What turns the image into the style: a classical operator or an ONNX model."""

    BUILTIN = "builtin"
    ONNX = "onnx"
    UPSCALER = "upscaler"  # one of pixserve.pipeline.upscalers.UPSCALERS


class Layout(StrEnum):
    """Axis order of the model's input and output tensors."""

    NCHW = "NCHW"
    NHWC = "NHWC"


class ValueRange(StrEnum):
    """The range of pixel values the model takes and gives."""

    UNIT = "0..1"
    SIGNED = "-1..1"
    BYTE = "0..255"


class Channels(StrEnum):
    """The channel order the model takes and gives."""

    RGB = "RGB"
    BGR = "BGR"


@dataclass(frozen=True)
class ModelSpec:
    """The ``[model]`` table of an ONNX style: where the model is and what it expects."""

    path: Path
    layout: Layout = Layout.NCHW
    range: ValueRange = ValueRange.SIGNED
    channels: Channels = Channels.RGB
    size_multiple: int = 1
    scale: int = 1
    #: Run images larger than this (px, each side) in overlapping tiles; 0 = never.
    tile: int = 0
    #: Pixels two neighbouring tiles share; their outputs are blended across it.
    tile_overlap: int = 0


@dataclass(frozen=True)
class OperatorSpec:
    """The ``[builtin]`` table: the operator's registry name and its parsed parameters."""

    operator: str
    params: Any


@dataclass(frozen=True)
class UpscalerSpec:
    """The ``[upscaler]`` table: a built-in upscaler's name and its tiling."""

    model: str
    tile: int = 256
    tile_overlap: int = 16


@dataclass(frozen=True)
class FaceSpec:
    """``[pipeline] face``: crop to the main face before the model."""

    required: bool = True
    margin: float = 0.5
    align: bool = False
    detector: str = "auto"

    def __post_init__(self) -> None:
        if not 0 <= self.margin <= 4:
            raise ValueError(f"margin must be between 0 and 4, got {self.margin!r}")
        if self.detector not in ("auto", "yuface", "haar"):
            raise ValueError(f"detector must be 'auto', 'yuface' or 'haar', got {self.detector!r}")


@dataclass(frozen=True)
class StepSpec:
    """One entry of ``[pipeline] post``: a post-step registry name and its parameters."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Style:
    """A style the service offers. Build it with :func:`pixserve.pipeline.load_bundle`."""

    name: str
    title: str
    description: str
    kind: Kind
    fast: bool
    max_side: int
    path: Path
    thumbnail: Path | None = None
    model: ModelSpec | None = None
    builtin: OperatorSpec | None = None
    post: tuple[StepSpec, ...] = ()
    upscaler: UpscalerSpec | None = None
    face: FaceSpec | None = None
    preview: PreviewSpec | None = None

    def info(self) -> dict[str, Any]:
        """The style as the HTTP catalog shows it (the web layer adds the thumbnail URL)."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "kind": self.kind.value,
            "fast": self.fast,
            "limits": {"max_side": self.max_side},
            "preview": self.preview is not None,
        }
