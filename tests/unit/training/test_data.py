"""The sampler and the augmentation depend on (seed, epoch, index) only."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pixserve.core.errors import DatasetError
from pixserve.training.data import (
    Augment,
    EpochSampler,
    PairedDataset,
    to_byte_range,
    to_signed,
)
from pixserve.training.prep.resize import square as centre_square


def test_an_epoch_is_a_seeded_permutation() -> None:
    sampler = EpochSampler(10, seed=3)
    sampler.set_epoch(0)
    first = list(sampler)
    assert sorted(first) == list(range(10))
    sampler.set_epoch(0)
    assert list(sampler) == first  # the same epoch again: the same order
    sampler.set_epoch(1)
    assert list(sampler) != first
    assert list(EpochSampler(10, seed=4)) != first


def test_processes_get_disjoint_equal_shares_that_cover_the_epoch() -> None:
    shares = []
    for rank in range(3):
        s = EpochSampler(10, seed=0, rank=rank, world_size=3)
        s.set_epoch(2)
        shares.append(list(s))
    assert [len(s) for s in shares] == [4, 4, 4]  # padded by wrapping, like DistributedSampler
    assert set().union(*shares) == set(range(10))


def test_skip_resumes_inside_an_epoch() -> None:
    s = EpochSampler(9, seed=1)
    s.set_epoch(5)
    whole = list(s)
    s.set_epoch(5, skip=4)
    assert list(s) == whole[4:] and len(s) == 5


def _pair(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    return a, 255 - a


def test_a_pair_is_cut_identically_and_reproducibly() -> None:
    data = PairedDataset([0, 1, 2], _pair, Augment(size=16, load_size=24), seed=7)
    data.set_epoch(3)
    x = data[1]
    assert x["A"].shape == x["B"].shape == (3, 16, 16)
    assert torch.allclose(x["A"], -x["B"], atol=1e-5)  # B = 255 − A survives the same cut
    again = data[1]
    assert torch.equal(x["A"], again["A"])
    crops = set()
    for epoch in range(8):
        data.set_epoch(epoch)
        crops.add(data[1]["A"].sum().item())
    assert len(crops) > 1  # other epochs cut elsewhere


def test_swap_makes_b_the_input() -> None:
    plain = PairedDataset([0], _pair, Augment(16, 16, train=False))[0]
    swapped = PairedDataset([0], _pair, Augment(16, 16, train=False), swap=True)[0]
    assert torch.equal(plain["A"], swapped["B"])


def test_bad_sizes_and_empty_sets_are_refused() -> None:
    with pytest.raises(DatasetError, match="load-size"):
        Augment(size=64, load_size=32)
    with pytest.raises(DatasetError, match="no images"):
        PairedDataset([], _pair, Augment(16, 16))


def test_value_ranges_and_centre_square() -> None:
    img = np.zeros((30, 60, 3), np.uint8)
    img[:, 25:35] = 255
    square = centre_square(img, 20)
    assert square.shape == (20, 20, 3)
    assert square[:, 10].min() == 255 and square[:, 0].max() == 0
    assert to_signed(img).min() == -1 and to_signed(img).max() == 1
    assert to_byte_range(img).max() == 255
