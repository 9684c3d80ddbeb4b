"""Training images as tensors: the datasets, their augmentation, and the epoch sampler.

Randomness never comes from a global generator: the order of an epoch is a permutation
seeded by ``(seed, epoch)`` and each image's crop and flip by ``(seed, epoch, index)``. So a
run resumed in the middle of an epoch sees exactly the batches it would have seen, with
any number of loader workers, and N ``torchrun`` processes see disjoint shards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from pixserve.core.errors import DatasetError

T = TypeVar("T")
Batch = dict[str, Any]


@dataclass(frozen=True)
class Augment:
    """How a training image is cut: resize to ``load_size``², random ``size``² crop, flip.

    With ``train=False`` (samples, validation) the image is only resized to ``size``².
    """

    size: int
    load_size: int
    flip: bool = True
    train: bool = True

    def __post_init__(self) -> None:
        if self.size < 16 or self.load_size < self.size:
            raise DatasetError(
                f"--size must be ≥ 16 and --load-size ≥ --size (got {self.size}, {self.load_size})"
            )

    def __call__(self, images: Sequence[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
        """The same cut applied to every image of ``images`` (a pair stays aligned)."""
        if not self.train:
            return [_resize(img, self.size) for img in images]
        loaded = [_resize(img, self.load_size) for img in images]
        room = self.load_size - self.size
        y, x = (int(rng.integers(0, room + 1)) for _ in range(2))
        flip = self.flip and bool(rng.integers(0, 2))
        out = []
        for img in loaded:
            crop = img[y : y + self.size, x : x + self.size]
            out.append(crop[:, ::-1] if flip else crop)
        return out


def _resize(img: np.ndarray, side: int) -> np.ndarray:
    h, w = img.shape[:2]
    if (h, w) == (side, side):
        return img
    shrinking = side < min(h, w)
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return cv2.resize(img, (side, side), interpolation=interpolation)


def centre_square(img: np.ndarray, side: int) -> np.ndarray:
    """Resize so the shorter side is ``side``, then cut the centre square (fast style)."""
    h, w = img.shape[:2]
    factor = side / min(h, w)
    size = (max(side, round(w * factor)), max(side, round(h * factor)))
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    resized = cv2.resize(img, size, interpolation=interpolation)
    y, x = (resized.shape[0] - side) // 2, (resized.shape[1] - side) // 2
    return resized[y : y + side, x : x + side]


def fixed_batch(
    files: Sequence[Path], read: Callable[[Path], np.ndarray], size: int
) -> torch.Tensor:
    """Images resized to ``size``², as a (K, 3, size, size) batch in −1..1 (sample grids)."""
    return torch.stack([to_signed(_resize(read(f), size)) for f in files])


def to_signed(img: np.ndarray) -> torch.Tensor:
    """RGB uint8 (H, W, 3) → float (3, H, W) in −1..1 (pix2pix and CycleGAN)."""
    t = torch.from_numpy(np.require(img, requirements=["C", "W"])).permute(2, 0, 1).float()
    return t / 127.5 - 1.0


def to_byte_range(img: np.ndarray) -> torch.Tensor:
    """RGB uint8 (H, W, 3) → float (3, H, W) in 0..255 (fast neural style)."""
    return torch.from_numpy(np.require(img, requirements=["C", "W"])).permute(2, 0, 1).float()


class _EpochDataset(Dataset[Batch], Generic[T]):
    """A dataset whose random cuts depend on ``(seed, epoch, index)`` only."""

    def __init__(self, items: Sequence[T], seed: int) -> None:
        if not items:
            raise DatasetError("the dataset holds no images")
        self.items = list(items)
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Use the random cuts of ``epoch`` from now on."""
        self.epoch = epoch

    def rng(self, index: int) -> np.random.Generator:
        """The generator for item ``index`` in the current epoch."""
        return np.random.default_rng([self.seed, self.epoch, index])

    def __len__(self) -> int:
        return len(self.items)


class PairedDataset(_EpochDataset[T]):
    """Aligned (A, B) pairs, cut identically; ``swap`` makes B the input (``BtoA``)."""

    def __init__(
        self,
        items: Sequence[T],
        read: Callable[[T], tuple[np.ndarray, np.ndarray]],
        augment: Augment,
        *,
        seed: int = 0,
        swap: bool = False,
    ) -> None:
        super().__init__(items, seed)
        self.read, self.augment, self.swap = read, augment, swap

    def __getitem__(self, index: int) -> Batch:
        a, b = self.read(self.items[index])
        if self.swap:
            a, b = b, a
        a, b = self.augment([a, b], self.rng(index))
        return {"A": to_signed(a), "B": to_signed(b), "index": index}


class UnalignedDataset(_EpochDataset[Path]):
    """Two unpaired sets (CycleGAN): item i is A[i mod |A|] with a random B, cut apart."""

    def __init__(
        self,
        a_files: Sequence[Path],
        b_files: Sequence[Path],
        read: Callable[[Path], np.ndarray],
        augment: Augment,
        *,
        seed: int = 0,
    ) -> None:
        if not b_files:
            raise DatasetError("the B side of the dataset holds no images")
        super().__init__(list(a_files), seed)
        self.b_files = list(b_files)
        self.read, self.augment = read, augment

    def __len__(self) -> int:
        return max(len(self.items), len(self.b_files))

    def __getitem__(self, index: int) -> Batch:
        rng = self.rng(index)
        a_path = self.items[index % len(self.items)]
        b_path = self.b_files[int(rng.integers(0, len(self.b_files)))]
        (a,) = self.augment([self.read(a_path)], rng)
        (b,) = self.augment([self.read(b_path)], rng)
        return {"A": to_signed(a), "B": to_signed(b), "index": index}


class ImageDataset(_EpochDataset[Path]):
    """Single photos in 0..255 (fast neural style's content images), centre squares."""

    def __init__(self, files: Sequence[Path], read: Callable[[Path], np.ndarray], size: int):
        super().__init__(list(files), seed=0)
        self.read, self.size = read, size

    def __getitem__(self, index: int) -> Batch:
        img = centre_square(self.read(self.items[index]), self.size)
        return {"A": to_byte_range(img), "index": index}


class EpochSampler(Sampler[int]):
    """This process's share of epoch ``e``: a ``(seed, e)`` permutation, every world-th index.

    The permutation is padded by wrapping so every process gets as many items (as
    ``DistributedSampler`` does). ``skip`` drops the first items of the share, to resume in
    the middle of an epoch.
    """

    def __init__(
        self, size: int, *, seed: int, rank: int = 0, world_size: int = 1, shuffle: bool = True
    ) -> None:
        self.size, self.seed, self.rank, self.world_size = size, seed, rank, world_size
        self.shuffle = shuffle
        self.epoch = 0
        self.skip = 0

    def set_epoch(self, epoch: int, *, skip: int = 0) -> None:
        """Iterate epoch ``epoch`` from its ``skip``-th item of this share on."""
        self.epoch, self.skip = epoch, skip

    def share(self) -> int:
        """Items per process per epoch."""
        return -(-self.size // self.world_size)

    def __len__(self) -> int:
        return max(0, self.share() - self.skip)

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(self.size)
        else:
            order = np.arange(self.size)
        total = self.share() * self.world_size
        order = np.resize(order, total)  # wraps around to pad
        mine = order[self.rank :: self.world_size]
        return iter(int(i) for i in mine[self.skip :])
