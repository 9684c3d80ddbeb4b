"""``EngineCache``: load each model once, keep it warm, share it between threads."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from pixserve.inference.engine import Engine
from pixserve.inference.onnx import OnnxEngine

#: Builds an engine for a model file; :class:`OnnxEngine` unless a test swaps it.
Loader = Callable[[Path], Engine]


class EngineCache:
    """A thread-safe map from model path to a loaded :class:`Engine`.

    Each path is loaded at most once, even when many threads ask for it at the same moment;
    loads of different paths do not wait for each other. A failed load is not cached, so a
    fixed file can be retried.
    """

    def __init__(self, *, threads: int | None = None, loader: Loader | None = None) -> None:
        self._loader: Loader = loader or (lambda path: OnnxEngine(path, threads=threads))
        self._engines: dict[Path, Engine] = {}
        self._loading: dict[Path, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, path: Path | str) -> Engine:
        """The engine for ``path``, loading it on first use."""
        key = Path(path).resolve()
        engine = self._engines.get(key)
        if engine is not None:
            return engine
        with self._lock:
            lock = self._loading.setdefault(key, threading.Lock())
        with lock:
            engine = self._engines.get(key)
            if engine is None:
                engine = self._loader(key)
                with self._lock:
                    self._engines[key] = engine
            return engine

    def warm(self, paths: Iterable[Path | str]) -> None:
        """Load every model in ``paths`` now, so the first request does not pay for it."""
        for path in paths:
            self.get(path)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, Path | str) and Path(path).resolve() in self._engines

    def __len__(self) -> int:
        return len(self._engines)
