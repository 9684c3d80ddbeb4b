"""``NeuralStyleStep``: the model step of ``kind = "neural-style"`` styles (Gatys et al.).

torch is imported when the first image is rendered, not when the pipeline is built, so the
serving path of every other style stays torch-free and a web node never loads it. What can
be checked without torch is checked when the pipeline is built (the bundle loads, the style
image decodes, torch is installed, the VGG weights are found), so a worker that cannot run
the style says so at warm-up.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pixserve.core.errors import BundleError, PixserveError
from pixserve.core.vgg import find_vgg_weights
from pixserve.imaging import decode_image
from pixserve.pipeline.neural_style_spec import NeuralStyleSpec
from pixserve.pipeline.steps.base import Frame, Progress

#: Loaded VGG networks, shared by every neural-style step of the process: (network, file)
#: → the renderer (VGG16 weights are 59 MB; load them once).
_RENDERERS: dict[tuple[str, str, tuple[str, ...]], Any] = {}
_LOCK = threading.Lock()
_STYLE_IMAGE_LIMIT = 50_000_000


@dataclass(frozen=True)
class NeuralStyleStep:
    """Paints the frame like the bundle's style image by optimisation, pass after pass."""

    spec: NeuralStyleSpec
    weights: Path
    style: np.ndarray = field(repr=False)
    name: ClassVar[str] = "model"
    weight: ClassVar[float] = 0.95

    def __call__(self, frame: Frame) -> Frame:
        """The painted frame; its longer side is the last pass's size."""
        return self.run(frame, None)

    def run(self, frame: Frame, progress: Progress | None) -> Frame:
        """As :meth:`__call__`, reporting the fraction done after every iteration."""
        from pixserve.models.gatys import GatysConfig, Pass  # torch: only now

        s = self.spec
        config = GatysConfig(
            passes=[Pass(p.size, p.iterations) for p in s.passes],
            content_layers=s.content_layers,
            style_layers=s.style_layers,
            style_layer_weights=s.style_layer_weights,
            content_weight=s.content_weight,
            style_weight=s.style_weight,
            tv_weight=s.tv_weight,
            optimizer=s.optimizer,
            learning_rate=s.learning_rate,
            init=s.init,
            style_scale=s.style_scale,
            seed=s.seed,
        )
        renderer = _renderer(s.network, self.weights, tuple(config.layers))
        return frame.with_pixels(renderer.render(frame.pixels, self.style, config, progress))

    def output_shape(self, shape: tuple[int, int], source: tuple[int, int]) -> tuple[int, int]:
        """The longer side becomes the last pass's size, aspect kept (as
        ``models.gatys._fit`` resizes: enlarged or shrunk, each side rounded, at least 1)."""
        h, w = shape
        factor = self.spec.passes[-1].size / max(h, w)
        return max(1, round(h * factor)), max(1, round(w * factor))


def neural_style_step(spec: NeuralStyleSpec, vgg_path: Path | None) -> NeuralStyleStep:
    """The step for ``spec``; :class:`BundleError` when this machine cannot run it."""
    if importlib.util.find_spec("torch") is None:
        raise BundleError(
            "a neural-style style needs torch on the workers that run it: "
            "pip install 'pixserve[train]' (or restrict other workers with --styles)"
        )
    try:
        weights = find_vgg_weights(vgg_path, spec.network)
    except PixserveError as exc:
        raise BundleError(exc.message) from exc
    try:
        style = decode_image(
            spec.style_image.read_bytes(),
            max_bytes=_STYLE_IMAGE_LIMIT,
            max_pixels=_STYLE_IMAGE_LIMIT,
        ).pixels
    except (PixserveError, OSError) as exc:
        message = exc.message if isinstance(exc, PixserveError) else str(exc)
        raise BundleError(f"style image {spec.style_image.name!r}: {message}") from exc
    return NeuralStyleStep(spec, weights, style)


def _renderer(network: str, weights: Path, layers: tuple[str, ...]) -> Any:
    key = (network, str(weights), layers)
    with _LOCK:
        found = _RENDERERS.get(key)
        if found is None:
            import torch

            from pixserve.models.gatys import NeuralStyle
            from pixserve.models.vgg import load_vgg, taps

            device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
            found = _RENDERERS[key] = NeuralStyle(load_vgg(weights, taps(layers, network)), device)
        return found
