"""Running models: the ``Engine`` protocol, ONNX Runtime behind it, and a warm cache."""

from pixserve.inference.cache import EngineCache, Loader
from pixserve.inference.engine import Engine
from pixserve.inference.onnx import OnnxEngine

__all__ = ["Engine", "EngineCache", "Loader", "OnnxEngine"]
