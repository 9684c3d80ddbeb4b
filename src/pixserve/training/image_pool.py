"""CycleGAN's history of generated images (Shrivastava et al. 2017, ``--pool_size 50``).

The discriminator sees a mix of the newest fakes and older ones, which damps oscillation.
The pool has its own random generator and is part of a run's saved state, so a resumed run
draws the same images it would have drawn.
"""

from __future__ import annotations

import random
from typing import Any

import torch


class ImagePool:
    """Up to ``size`` past images; ``size = 0`` passes images straight through."""

    def __init__(self, size: int, seed: int = 0) -> None:
        self.size = size
        self.images: list[torch.Tensor] = []
        self.random = random.Random(seed)

    def query(self, images: torch.Tensor) -> torch.Tensor:
        """For each image: keep it and return it, or (half the time, once full) return a
        stored one and keep the new one in its place."""
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            image = image.unsqueeze(0)  # (1, C, H, W)
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif self.random.random() > 0.5:
                i = self.random.randrange(self.size)
                out.append(self.images[i].clone())
                self.images[i] = image
            else:
                out.append(image)
        return torch.cat(out, 0)

    def state_dict(self) -> dict[str, Any]:
        """The stored images (on the CPU) and the generator's state."""
        return {"images": [t.cpu() for t in self.images], "random": self.random.getstate()}

    def load_state_dict(self, state: dict[str, Any], device: torch.device) -> None:
        """Restore :meth:`state_dict` output."""
        self.images = [t.to(device) for t in state["images"]]
        self.random.setstate(_as_state(state["random"]))


def _as_state(value: Any) -> Any:
    # A state that went through torch.save may come back with lists for tuples.
    version, internal, gauss = value
    return (version, tuple(internal), gauss)
