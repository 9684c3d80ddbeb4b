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
from pixserve.training.prep.resize import resize, square
from pixserve.training.run import DataConfig

T = TypeVar("T")
Batch = dict[str, Any]


#: How a training image is brought to its crop (``--resize``).
RESIZES = ("square", "shorter-side", "none")


@dataclass(frozen=True)
class Augment:
    """How a training image is cut into a ``size``² square, then mirrored half the time.

    ``resize``:

    - ``square``: resized to ``load_size``² (aspect not kept), then a random crop: pix2pix
      and CycleGAN's ``resize_and_crop``;
    - ``shorter-side``: the shorter side resized to a random length from ``size`` to
      ``load_size`` (aspect kept), then a random crop: scale jitter for fast-style;
    - ``none``: a random crop at the image's own scale (images smaller than ``size`` are
      enlarged to fit): for distillation, where the teacher's output depends on the scale.

    With ``train=False`` (samples, validation) there is nothing random: ``square`` resizes to
    ``size``², the others take the centre square at the smallest scale.
    """

    size: int
    load_size: int
    flip: bool = True
    train: bool = True
    resize: str = "square"

    def __post_init__(self) -> None:
        if self.resize not in RESIZES:
            raise DatasetError(f"--resize must be one of {', '.join(RESIZES)}, not {self.resize!r}")
        if self.size < 16 or (self.resize != "none" and self.load_size < self.size):
            raise DatasetError(
                f"--size must be ≥ 16 and --load-size ≥ --size (got {self.size}, {self.load_size})"
            )

    def __call__(
        self, images: Sequence[np.ndarray], rng: np.random.Generator | None = None
    ) -> list[np.ndarray]:
        """The same cut applied to every image of ``images`` (a pair stays aligned)."""
        if not self.train or rng is None:
            if self.resize == "square":
                return [resize(img, self.size, self.size) for img in images]
            if self.resize == "shorter-side":
                return [square(img, self.size) for img in images]
            return [_centre_crop(_at_least(img, self.size), self.size) for img in images]
        if self.resize == "square":
            loaded = [resize(img, self.load_size, self.load_size) for img in images]
        elif self.resize == "shorter-side":
            side = int(rng.integers(self.size, self.load_size + 1))
            loaded = [_shorter_side(img, side) for img in images]
        else:
            loaded = [_at_least(img, self.size) for img in images]
        h, w = loaded[0].shape[:2]
        y = int(rng.integers(0, h - self.size + 1))
        x = int(rng.integers(0, w - self.size + 1))
        flip = self.flip and bool(rng.integers(0, 2))
        out = []
        for img in loaded:
            crop = img[y : y + self.size, x : x + self.size]
            out.append(crop[:, ::-1] if flip else crop)
        return out


def augment_for(data: DataConfig, *, train: bool = True) -> Augment:
    """The run's cut for training images (or, with ``train=False``, for sample images)."""
    if not train:
        return Augment(data.size, data.size, flip=False, train=False, resize=data.resize)
    return Augment(data.size, data.load_size, data.flip, resize=data.resize)


def _shorter_side(img: np.ndarray, side: int) -> np.ndarray:
    h, w = img.shape[:2]
    factor = side / min(h, w)
    if factor == 1:
        return img
    size = (max(side, round(w * factor)), max(side, round(h * factor)))
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(img, size, interpolation=interpolation)


def _at_least(img: np.ndarray, side: int) -> np.ndarray:
    return img if min(img.shape[:2]) >= side else _shorter_side(img, side)


def _centre_crop(img: np.ndarray, side: int) -> np.ndarray:
    y, x = (img.shape[0] - side) // 2, (img.shape[1] - side) // 2
    return img[y : y + side, x : x + side]


def fixed_batch(
    files: Sequence[Path], read: Callable[[Path], np.ndarray], size: int
) -> torch.Tensor:
    """Images resized to ``size``², as a (K, 3, size, size) batch in −1..1 (sample grids)."""
    return torch.stack([to_signed(resize(read(f), size, size)) for f in files])


def to_signed(img: np.ndarray) -> torch.Tensor:
    """RGB uint8 (H, W, 3) → float (3, H, W) in −1..1 (pix2pix and CycleGAN)."""
    t = torch.from_numpy(np.require(img, requirements=["C", "W"])).permute(2, 0, 1).float()
    return t / 127.5 - 1.0


def to_byte_range(img: np.ndarray) -> torch.Tensor:
    """RGB uint8 (H, W, 3) → float (3, H, W) in 0..255 (fast neural style)."""
    return torch.from_numpy(np.require(img, requirements=["C", "W"])).permute(2, 0, 1).float()


class _EpochDataset(Dataset[Batch], Generic[T]):
    """A dataset whose random cuts depend on ``(seed, epoch, index)`` only."""

    def __init__(self, items: Sequence[T], seed: int, repeat: int = 1) -> None:
        if not items:
            raise DatasetError("the dataset holds no images")
        self.items = list(items)
        self.seed = seed
        #: Each epoch visits every item this many times, each time cut differently.
        self.repeat = repeat
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Use the random cuts of ``epoch`` from now on."""
        self.epoch = epoch

    def rng(self, index: int) -> np.random.Generator:
        """The generator for item ``index`` in the current epoch."""
        return np.random.default_rng([self.seed, self.epoch, index])

    def __len__(self) -> int:
        return len(self.items) * self.repeat


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
        repeat: int = 1,
    ) -> None:
        super().__init__(items, seed, repeat)
        self.read, self.augment, self.swap = read, augment, swap

    def __getitem__(self, index: int) -> Batch:
        a, b = self.read(self.items[index % len(self.items)])
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
        repeat: int = 1,
    ) -> None:
        if not b_files:
            raise DatasetError("the B side of the dataset holds no images")
        super().__init__(list(a_files), seed, repeat)
        self.b_files = list(b_files)
        self.read, self.augment = read, augment

    def __len__(self) -> int:
        return max(len(self.items), len(self.b_files)) * self.repeat

    def __getitem__(self, index: int) -> Batch:
        rng = self.rng(index)
        a_path = self.items[index % len(self.items)]
        b_path = self.b_files[int(rng.integers(0, len(self.b_files)))]
        (a,) = self.augment([self.read(a_path)], rng)
        (b,) = self.augment([self.read(b_path)], rng)
        return {"A": to_signed(a), "B": to_signed(b), "index": index}


class ImageDataset(_EpochDataset[Path]):
    """Single photos in 0..255 (fast neural style's content images)."""

    def __init__(
        self,
        files: Sequence[Path],
        read: Callable[[Path], np.ndarray],
        augment: Augment,
        *,
        seed: int = 0,
        repeat: int = 1,
    ) -> None:
        super().__init__(list(files), seed, repeat)
        self.read, self.augment = read, augment

    def __getitem__(self, index: int) -> Batch:
        (img,) = self.augment([self.read(self.items[index % len(self.items)])], self.rng(index))
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
