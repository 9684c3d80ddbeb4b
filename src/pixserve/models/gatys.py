"""Neural style transfer by optimisation: the picture itself is what gets trained.

Gatys, Ecker, Bethge, "Image Style Transfer Using Convolutional Neural Networks", CVPR 2016
(arXiv:1508.06576). The result starts from the photo (or noise) and is changed, pixel by
pixel, until its VGG features match the photo's at the content layers and its Gram matrices
match the style image's at the style layers, with a total-variation term for smoothness.
Multi-pass, as the paint-my-photo shop rendered HD: a small pass, then larger passes each
started from the upsampled previous result, so the large pass only refines.

Slow by nature (minutes per image on a GPU); the ``neural-style`` style kind runs it on
workers and reports progress after every iteration of every pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from pixserve.models.vgg import VGGFeatures, gram

Progress = Callable[[float], None]


@dataclass(frozen=True)
class Pass:
    """One optimisation pass: the result's longer side and the iterations it gets."""

    size: int
    iterations: int


@dataclass(frozen=True)
class GatysConfig:
    """What a ``[neural_style]`` table says (defaults: Gatys et al. on VGG)."""

    passes: Sequence[Pass]
    content_layers: Sequence[str] = ("relu4_2",)
    style_layers: Sequence[str] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    #: One weight per style layer (default: equal).
    style_layer_weights: Sequence[float] = ()
    content_weight: float = 1.0
    style_weight: float = 1e5
    tv_weight: float = 1e-4
    optimizer: str = "lbfgs"  # or "adam"
    learning_rate: float = 1.0
    init: str = "content"  # or "noise"
    #: The style image's longer side relative to the pass size.
    style_scale: float = 1.0
    seed: int = 0

    @property
    def layers(self) -> list[str]:
        """Every VGG layer the losses read, content first."""
        return list(dict.fromkeys([*self.content_layers, *self.style_layers]))


class NeuralStyle:
    """Renders with one loaded VGG on one device; not thread-safe (one render at a time)."""

    def __init__(self, vgg: VGGFeatures, device: torch.device) -> None:
        self.vgg = vgg.to(device)
        self.device = device

    def render(
        self,
        content: np.ndarray,
        style: np.ndarray,
        cfg: GatysConfig,
        progress: Progress | None = None,
    ) -> np.ndarray:
        """``content`` (RGB uint8) painted in ``style`` (RGB uint8); the result's longer side
        is the last pass's size. ``progress`` gets a rising fraction after every iteration."""
        total = sum(p.iterations for p in cfg.passes)
        done = 0
        image: torch.Tensor | None = None
        generator = torch.Generator(device="cpu").manual_seed(cfg.seed)
        for p in cfg.passes:
            target = _to_tensor(_fit(content, p.size), self.device)  # (1, 3, h, w), 0..1
            if image is None:
                if cfg.init == "noise":
                    noise = torch.rand(target.shape, generator=generator).to(self.device)
                    start = noise
                else:
                    start = target
            else:
                start = F.interpolate(image, size=target.shape[-2:], mode="bicubic")
            side = max(16, round(p.size * cfg.style_scale))
            styled = _to_tensor(_fit(style, side), self.device)

            def step_done(n: int = 1, base: int = done) -> None:
                if progress is not None:
                    progress(min(1.0, (base + n) / total))

            image = self._optimise(start, target, styled, cfg, p.iterations, step_done)
            done += p.iterations
        assert image is not None
        out = image[0].clamp(0, 1).permute(1, 2, 0).detach().cpu().numpy()
        return np.ascontiguousarray(np.rint(out * 255).astype(np.uint8))

    def _optimise(
        self,
        start: torch.Tensor,
        content: torch.Tensor,
        style: torch.Tensor,
        cfg: GatysConfig,
        iterations: int,
        step_done: Callable[[int], None],
    ) -> torch.Tensor:
        with torch.no_grad():
            content_targets = self.vgg(content)
            style_targets = {
                k: gram(v) for k, v in self.vgg(style).items() if k in cfg.style_layers
            }
        weights = list(cfg.style_layer_weights) or [1.0] * len(cfg.style_layers)
        x = start.detach().clamp(0, 1).contiguous().requires_grad_(True)

        def loss_of(image: torch.Tensor) -> torch.Tensor:
            feats = self.vgg(image)
            loss = torch.zeros((), device=self.device)
            for name in cfg.content_layers:
                loss = loss + cfg.content_weight * F.mse_loss(feats[name], content_targets[name])
            for name, w in zip(cfg.style_layers, weights, strict=True):
                loss = loss + cfg.style_weight * w * F.mse_loss(
                    gram(feats[name]), style_targets[name]
                )
            if cfg.tv_weight:
                dy = image[..., 1:, :] - image[..., :-1, :]
                dx = image[..., :, 1:] - image[..., :, :-1]
                loss = loss + cfg.tv_weight * (dy.pow(2).mean() + dx.pow(2).mean())
            return loss

        if cfg.optimizer == "adam":
            adam = torch.optim.Adam([x], lr=cfg.learning_rate)
            for i in range(iterations):
                adam.zero_grad(set_to_none=True)
                loss_of(x).backward()
                adam.step()
                with torch.no_grad():
                    x.clamp_(0, 1)
                step_done(i + 1)
            return x.detach()

        # One step() runs the whole pass; every loss evaluation counts as an iteration (as
        # max_eval = max_iter makes it), so progress is exact. It may stop early when the
        # loss stops changing at all.
        lbfgs = torch.optim.LBFGS(
            [x],
            lr=cfg.learning_rate,
            max_iter=iterations,
            max_eval=iterations,
            history_size=50,
            tolerance_grad=0.0,
            tolerance_change=0.0,
        )
        evaluations = 0

        def closure() -> torch.Tensor:
            nonlocal evaluations
            with torch.no_grad():
                x.clamp_(0, 1)
            lbfgs.zero_grad(set_to_none=True)
            loss = loss_of(x)
            loss.backward()
            evaluations += 1
            step_done(min(evaluations, iterations))
            return loss

        lbfgs.step(closure)
        step_done(iterations)
        with torch.no_grad():
            x.clamp_(0, 1)
        return x.detach()


def _fit(rgb: np.ndarray, side: int) -> np.ndarray:
    """``rgb`` resized so its longer side is ``side`` (enlarged or shrunk)."""
    import cv2

    h, w = rgb.shape[:2]
    factor = side / max(h, w)
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    if size == (w, h):
        return rgb
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(rgb, size, interpolation=interpolation)


def _to_tensor(rgb: np.ndarray, device: torch.device) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(rgb)).to(device).permute(2, 0, 1).float() / 255
    return t[None].contiguous()  # (1, 3, H, W)
