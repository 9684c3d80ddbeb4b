"""Styles and what they do to an image: bundles, the catalog, steps, built-in operators."""

from pixserve.pipeline.bundle import load_bundle
from pixserve.pipeline.catalog import BUILTIN_DIR, Catalog
from pixserve.pipeline.operators import OPERATORS, Operator
from pixserve.pipeline.pipeline import Pipeline, Progress, build_pipeline
from pixserve.pipeline.renderer import Renderer
from pixserve.pipeline.steps import POST_STEPS, Frame, Step
from pixserve.pipeline.style import (
    Channels,
    Kind,
    Layout,
    ModelSpec,
    OperatorSpec,
    StepSpec,
    Style,
    ValueRange,
)

__all__ = [
    "BUILTIN_DIR",
    "OPERATORS",
    "POST_STEPS",
    "Catalog",
    "Channels",
    "Frame",
    "Kind",
    "Layout",
    "ModelSpec",
    "Operator",
    "OperatorSpec",
    "Pipeline",
    "Progress",
    "Renderer",
    "Step",
    "StepSpec",
    "Style",
    "ValueRange",
    "build_pipeline",
    "load_bundle",
]
