"""``ModelSpec``: the ``[model]`` table of an ONNX style, as the model steps run it.

It is the shared tensor convention (:class:`~pixserve.core.tensor_io.TensorIO`: range,
layout, channels, size multiple, scale) plus the model file and its tiling. It lives below
the steps that use it; :mod:`pixserve.pipeline.manifest` puts it into the manifest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
)

from pixserve.core.tensor_io import TensorIO
from pixserve.inference.spec import EngineSpec, Precision
from pixserve.pipeline.tables import InBundle, relative_to_bundle

#: The model file's name when ``[model] file`` is not given (and what import writes).
MODEL_FILE = "model.onnx"

ModelFile = Annotated[
    Path,
    Field(strict=False),  # TOML gives a string
    AfterValidator(InBundle("model file")),
    PlainSerializer(relative_to_bundle, when_used="json"),
]


class ModelSpec(TensorIO):
    """Where the model is (``file`` in TOML, ``path`` in code), what it expects, its tiles."""

    # ``path`` is spelt ``file`` in style.toml (read_manifest reads TOML names only).
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)

    path: ModelFile = Field(
        default=Path(MODEL_FILE),
        validation_alias="file",
        serialization_alias="file",
        validate_default=True,
    )
    #: Run images larger than this (px, each side) in overlapping tiles; 0 = never.
    tile: int = Field(default=0, ge=0, le=8192)
    #: Pixels two neighbouring tiles share; their outputs are blended across it.
    tile_overlap: int = Field(default=0, ge=0, le=4096)
    #: This style's engine (``auto``, ``onnxruntime``, ``openvino``, ``openvino/cpu/bf16``
    #: …); None: the server's ``PIXSERVE_ENGINE``.
    engine: str | None = None
    #: ``fp32``, ``bf16``, ``fp16`` or ``int8``; None: the server's ``PIXSERVE_PRECISION``.
    precision: Precision | None = Field(default=None, strict=False)
    #: The fidelity floor: a precision below fp32 must reach this PSNR (dB) against fp32.
    min_psnr: float | None = Field(default=None, ge=0, le=200, strict=False)

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, engine: str | None) -> str | None:
        if engine is not None and engine != "auto":
            EngineSpec.parse(engine)  # ValueError names what is wrong
        return engine

    @field_validator("tile")
    @classmethod
    def _tile_fits_the_model(cls, tile: int, info: ValidationInfo) -> int:
        multiple = info.data.get("size_multiple", 1)
        if tile and info.data.get("input_size") is not None:
            raise ValueError("must be 0 for a model with a fixed input_size")
        if tile and (tile < 32 or tile % multiple):
            raise ValueError(f"must be 0 or ≥ 32 and a multiple of size_multiple, got {tile}")
        return tile

    @field_validator("tile_overlap")
    @classmethod
    def _overlap_below_half_a_tile(cls, overlap: int, info: ValidationInfo) -> int:
        tile = info.data.get("tile", 0)
        if tile and not 2 * overlap < tile:
            raise ValueError(f"must be less than tile / 2, got {overlap}")
        return overlap
