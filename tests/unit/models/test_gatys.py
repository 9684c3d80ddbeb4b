"""Neural style by optimisation: passes, sizes, progress, both optimisers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pixserve.models.gatys import GatysConfig, NeuralStyle, Pass
from pixserve.models.vgg import VGGFeatures, taps
from tests.support.images import photo


@pytest.fixture(scope="module")
def painter() -> NeuralStyle:
    torch.manual_seed(0)
    return NeuralStyle(VGGFeatures(taps(["relu1_1", "relu2_1", "relu2_2"])), torch.device("cpu"))


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_passes_end_at_the_last_size_with_progress_per_iteration(
    painter: NeuralStyle, optimizer: str
) -> None:
    cfg = GatysConfig(
        passes=[Pass(40, 6), Pass(64, 4)],
        content_layers=["relu2_2"],
        style_layers=["relu1_1", "relu2_1"],
        optimizer=optimizer,
        learning_rate=1.0 if optimizer == "lbfgs" else 0.02,
    )
    seen: list[float] = []
    content = photo("chelsea")  # 451×300
    out = painter.render(content, photo("coffee"), cfg, seen.append)
    assert out.shape == (43, 64, 3) and out.dtype == np.uint8
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert len(set(seen)) == 10  # one report per iteration of each pass


def test_the_optimisation_moves_towards_the_style(painter: NeuralStyle) -> None:
    content, style = photo("chelsea"), np.zeros((64, 64, 3), np.uint8)
    style[::8] = 255  # stripes
    start = GatysConfig(passes=[Pass(48, 1)], content_layers=["relu2_2"], style_layers=["relu1_1"])
    longer = GatysConfig(
        passes=[Pass(48, 30)],
        content_layers=["relu2_2"],
        style_layers=["relu1_1"],
        style_weight=1e6,
    )
    a = painter.render(content, style, start)
    b = painter.render(content, style, longer)
    assert np.abs(b.astype(int) - a.astype(int)).mean() > 2  # the picture changed
