from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from pixserve.core.errors import BundleError
from pixserve.inference import Engine, EngineCache, OnnxEngine
from tests.unit.inference import tiny_models


class FakeEngine:
    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def name(self) -> str:
        return "fake"

    def run(self, batch: np.ndarray) -> np.ndarray:
        return batch


def test_loads_each_path_once_even_under_concurrency(tmp_path: Path) -> None:
    loads: list[Path] = []

    def slow_loader(path: Path) -> Engine:
        loads.append(path)
        time.sleep(0.05)  # long enough that every thread arrives while loading
        return FakeEngine(path)

    cache = EngineCache(loader=slow_loader)
    results: list[Engine] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get(tmp_path / "a.onnx")))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1
    assert len({id(r) for r in results}) == 1
    assert len(cache) == 1


def test_equivalent_paths_share_one_engine(tmp_path: Path) -> None:
    cache = EngineCache(loader=FakeEngine)
    a = cache.get(tmp_path / "m.onnx")
    b = cache.get(str(tmp_path / "sub" / ".." / "m.onnx"))
    assert a is b
    assert tmp_path / "m.onnx" in cache


def test_a_failed_load_is_not_cached(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    cache = EngineCache(threads=1)
    with pytest.raises(BundleError):
        cache.get(path)
    assert path not in cache
    tiny_models.negate(path)
    assert isinstance(cache.get(path), OnnxEngine)


def test_warm_loads_everything_up_front(tmp_path: Path) -> None:
    cache = EngineCache()
    paths = [tiny_models.negate(tmp_path / f"m{i}.onnx") for i in range(3)]
    cache.warm(paths)
    assert len(cache) == 3
    assert all(p in cache for p in paths)
