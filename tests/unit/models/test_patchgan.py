"""The discriminator keeps junyanz's key layout, so run checkpoints look like theirs."""

from __future__ import annotations

import torch

from pixserve.models.patchgan import NLayerDiscriminator, PatchGANConfig


def test_batch_norm_keys_match_the_upstream_layout() -> None:
    d = NLayerDiscriminator(PatchGANConfig(input_nc=6, ndf=8, n_layers=3, norm="batch"))
    weights = sorted(k for k in d.state_dict() if k.endswith("weight"))
    assert weights == sorted(
        ["model.0.weight", "model.2.weight", "model.3.weight", "model.5.weight",
         "model.6.weight", "model.8.weight", "model.9.weight", "model.11.weight"]
    )  # fmt: skip
    assert "model.2.bias" not in d.state_dict()  # convs before a BatchNorm have no bias


def test_a_70px_patch_gan_scores_patches() -> None:
    d = NLayerDiscriminator(PatchGANConfig(input_nc=3, ndf=4))
    out = d(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 1, 6, 6)  # one logit per overlapping patch
    assert "model.2.bias" in d.state_dict()  # instance norm: the convs keep their bias
