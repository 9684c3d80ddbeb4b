"""``publish``: any loaded model becomes a verified style with a thumbnail (what export uses)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from pixserve.bundling.checkpoint_import import LOCAL_OVERLAP, LOCAL_TILE, publish
from pixserve.core.errors import BundleError
from pixserve.models import LoadedModel, load_family, srvgg, transformer_net
from pixserve.pipeline import Kind


def fast_style() -> LoadedModel:
    net = transformer_net.TransformerNet(transformer_net.TransformerNetConfig(4))
    return load_family("fast-style", net.state_dict())


def test_publish_a_loaded_model(tmp_path: Path) -> None:
    loaded = fast_style()
    sample = np.full((120, 160, 3), 90, np.uint8)
    result = publish(
        loaded,
        tmp_path,
        name="run-7",
        title="Run 7",
        source={"run": "runs/7", "epoch": 3},
        max_side=512,
        sample=sample,
    )
    style = result.style
    assert (style.name, style.title, style.kind, style.max_side) == (
        "run-7",
        "Run 7",
        Kind.ONNX,
        512,
    )
    assert style.description == "A fast-style model."
    assert style.model is not None and style.model.size_multiple == 4 and style.model.tile == 0
    assert result.verification.max_abs_error <= result.verification.tolerance
    assert result.thumbnail_skipped is None and style.thumbnail is not None
    config = json.loads((style.path / "config.json").read_text())
    assert config["family"] == "fast-style" and config["architecture"] == "TransformerNet"
    assert config["source"] == {"run": "runs/7", "epoch": 3}
    assert config["verification"]["torch"] == torch.__version__


def test_local_models_get_tiles_by_default(tmp_path: Path) -> None:
    net = srvgg.SRVGGNetCompact(srvgg.SRVGGConfig(num_feat=4, num_conv=1, upscale=2))
    loaded = load_family("realesrgan", net.state_dict())
    style = publish(loaded, tmp_path, name="up").style
    assert style.model is not None
    assert (style.model.scale, style.model.tile, style.model.tile_overlap) == (
        2,
        LOCAL_TILE,
        LOCAL_OVERLAP,
    )
    assert style.thumbnail is not None  # a centre detail of the sample, enlarged


def test_a_bad_name_fails_before_the_export(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="--name"):
        publish(fast_style(), tmp_path, name="No Good")
    assert list(tmp_path.iterdir()) == []
