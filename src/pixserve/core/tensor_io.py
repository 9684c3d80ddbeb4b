"""``TensorIO``: how a model's tensors hold an image — one definition for every layer.

A style bundle's ``[model]`` table (``pipeline.ModelSpec``) and a loaded checkpoint
(``models.ModelIO``) both extend it, so a value range, a layout or a limit on
``size_multiple`` is written here and nowhere else.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Layout(StrEnum):
    """Axis order of the model's input and output tensors."""

    NCHW = "NCHW"
    NHWC = "NHWC"


class ValueRange(StrEnum):
    """The range of pixel values the model takes and gives."""

    UNIT = "0..1"
    SIGNED = "-1..1"
    BYTE = "0..255"

    @property
    def span(self) -> float:
        """The width of the range: 1, 2 or 255."""
        return {"0..1": 1.0, "-1..1": 2.0, "0..255": 255.0}[self.value]


class Channels(StrEnum):
    """The channel order the model takes and gives."""

    RGB = "RGB"
    BGR = "BGR"


class TensorIO(BaseModel):
    """The tensor convention of an image model: what the pipeline converts pixels to.

    Values keep the types TOML gives them (``strict``): ``"3"`` is not an integer and ``1``
    is not ``true``. The enums are read from their string values.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    range: ValueRange = Field(strict=False)
    layout: Layout = Field(default=Layout.NCHW, strict=False)
    channels: Channels = Field(default=Channels.RGB, strict=False)
    #: Height and width are padded (by reflection) to a multiple of this.
    size_multiple: int = Field(default=1, ge=1, le=512)
    #: Output size = input size × scale.
    scale: int = Field(default=1, ge=1, le=16)
    #: A model that takes one fixed square size (U-GAT-IT's MLP reads the whole feature
    #: map): the image is resized to ``input_size``² and the output resized back.
    input_size: int | None = Field(default=None, ge=16, le=4096)

    def convention(self) -> dict[str, Any]:
        """Only these keys, without what a subclass adds (a path, tiles, …)."""
        return {name: getattr(self, name) for name in TensorIO.model_fields}
