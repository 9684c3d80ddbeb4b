from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pixserve.core.errors import BundleError, Unavailable, UnknownStyle
from pixserve.inference import EngineCache
from pixserve.pipeline import Catalog, Renderer
from tests.unit.inference import tiny_models
from tests.unit.pipeline.bundles import onnx_toml, write_bundle


def test_renders_by_name_and_keeps_pipelines(chelsea: np.ndarray) -> None:
    renderer = Renderer(Catalog.load([]))
    out = renderer.render("pencil", chelsea)
    assert out.shape == chelsea.shape
    assert renderer.pipeline("pencil") is renderer.pipeline("pencil")


def test_unknown_style() -> None:
    with pytest.raises(UnknownStyle):
        Renderer(Catalog.load([])).pipeline("nope")


def test_warm_loads_models_and_reports_broken_ones(tmp_path: Path) -> None:
    write_bundle(
        tmp_path,
        "neg",
        onnx_toml("neg", 'range = "-1..1"'),
        tiny_models.negate(tmp_path / "n.onnx"),
    )
    broken = write_bundle(tmp_path, "bad", onnx_toml("bad", 'range = "0..1"'))
    (broken / "model.onnx").write_bytes(b"not a model")
    engines = EngineCache()
    catalog = Catalog.load([tmp_path], strict=True)
    renderer = Renderer(catalog, engines, model_dir=tmp_path / "models")
    with pytest.raises(Unavailable):
        renderer.check_warm()
    assert renderer.warm() == ["bad"]
    renderer.check_warm()
    assert tmp_path / "neg" / "model.onnx" in engines
    with pytest.raises(BundleError):
        renderer.render("bad", np.zeros((4, 4, 3), np.uint8))
