"""Pipeline steps: crop, size limit, the model, and the registered post steps."""

from pixserve.pipeline.steps.base import Frame, NeedsModels, Progress, ReportsProgress, Step
from pixserve.pipeline.steps.crop import CropStep
from pixserve.pipeline.steps.face import FaceStep
from pixserve.pipeline.steps.limit_size import LimitSize
from pixserve.pipeline.steps.neural_style import NeuralStyleStep, neural_style_step
from pixserve.pipeline.steps.onnx_model import OnnxModelStep
from pixserve.pipeline.steps.operator import OperatorStep
from pixserve.pipeline.steps.post import NormaliseColours, ResizeToInput, Sharpen
from pixserve.pipeline.steps.registry import POST_STEPS, make_post_step
from pixserve.pipeline.steps.upscale import Upscale, UpscaleModelStep, upscale_model_step

__all__ = [
    "POST_STEPS",
    "CropStep",
    "FaceStep",
    "Frame",
    "LimitSize",
    "NeedsModels",
    "NeuralStyleStep",
    "NormaliseColours",
    "OnnxModelStep",
    "OperatorStep",
    "Progress",
    "ReportsProgress",
    "ResizeToInput",
    "Sharpen",
    "Step",
    "Upscale",
    "UpscaleModelStep",
    "make_post_step",
    "neural_style_step",
    "upscale_model_step",
]
