from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pixserve.core.errors import BundleError, ModelError
from pixserve.inference import Engine, OnnxEngine
from tests.unit.inference import tiny_models


def test_runs_the_model_and_returns_float32(tmp_path: Path) -> None:
    engine = OnnxEngine(tiny_models.negate(tmp_path / "neg.onnx"), threads=1)
    batch = np.random.default_rng(0).random((2, 3, 5, 7), dtype=np.float32)
    out = engine.run(batch)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, -batch)


def test_accepts_float64_input_by_casting(tmp_path: Path) -> None:
    engine = OnnxEngine(tiny_models.negate(tmp_path / "neg.onnx"))
    out = engine.run(np.ones((1, 3, 2, 2), np.float64))
    assert out.dtype == np.float32
    assert float(out.sum()) == -12.0


def test_is_an_engine_with_a_provider_name(tmp_path: Path) -> None:
    engine = OnnxEngine(tiny_models.negate(tmp_path / "neg.onnx"))
    assert isinstance(engine, Engine)
    assert engine.name == "onnxruntime/CPUExecutionProvider"


def test_a_file_that_is_not_onnx_is_a_bundle_error(tmp_path: Path) -> None:
    bogus = tmp_path / "model.onnx"
    bogus.write_bytes(b"\x89PNG definitely not a model")
    with pytest.raises(BundleError, match=r"model\.onnx"):
        OnnxEngine(bogus)


def test_a_missing_file_is_a_bundle_error(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="not found"):
        OnnxEngine(tmp_path / "nope.onnx")


def test_bad_input_is_a_model_error_naming_the_shape(tmp_path: Path) -> None:
    engine = OnnxEngine(tiny_models.needs_multiple_of_8(tmp_path / "m8.onnx"))
    engine.run(np.zeros((1, 3, 16, 8), np.float32))  # fine
    with pytest.raises(ModelError, match=r"m8\.onnx.*\(1, 3, 3, 4\)"):
        engine.run(np.zeros((1, 3, 3, 4), np.float32))


def test_rejects_nonsense_thread_counts(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        OnnxEngine(tiny_models.negate(tmp_path / "neg.onnx"), threads=0)
