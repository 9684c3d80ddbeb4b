"""Styles and what they do to an image: bundles, the catalog, steps, built-in operators."""

from pixserve.pipeline.bundle import load_bundle
from pixserve.pipeline.catalog import BUILTIN_DIR, Catalog
from pixserve.pipeline.manifest import (
    BuiltinManifest,
    InputKind,
    InputSpec,
    Manifest,
    OnnxManifest,
    PipelineSpec,
    UpscalerManifest,
    manifest_toml,
    read_manifest,
)
from pixserve.pipeline.model_spec import ModelSpec
from pixserve.pipeline.operators import OPERATORS, Operator
from pixserve.pipeline.pipeline import Pipeline, Progress, build_pipeline
from pixserve.pipeline.renderer import Renderer
from pixserve.pipeline.steps import POST_STEPS, Frame, Step
from pixserve.pipeline.style import (
    Channels,
    Kind,
    Layout,
    OperatorSpec,
    StepSpec,
    Style,
    ValueRange,
)

__all__ = [
    "BUILTIN_DIR",
    "OPERATORS",
    "POST_STEPS",
    "BuiltinManifest",
    "Catalog",
    "Channels",
    "Frame",
    "InputKind",
    "InputSpec",
    "Kind",
    "Layout",
    "Manifest",
    "ModelSpec",
    "OnnxManifest",
    "Operator",
    "OperatorSpec",
    "Pipeline",
    "PipelineSpec",
    "Progress",
    "Renderer",
    "Step",
    "StepSpec",
    "Style",
    "UpscalerManifest",
    "ValueRange",
    "build_pipeline",
    "load_bundle",
    "manifest_toml",
    "read_manifest",
]
