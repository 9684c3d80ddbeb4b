"""Unit-test wiring: services over in-memory stores and a fake catalog/renderer."""

from __future__ import annotations

import numpy as np
import pytest

from pixserve.core.settings import Settings
from pixserve.queue.memory import MemoryJobStore
from pixserve.services import JobService, TranslateService
from pixserve.storage.memory import MemoryBlobStore
from tests.support.fakes import FakeCatalog, FakeStyle, InvertRenderer
from tests.support.images import jpeg_bytes


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path, lease_seconds=3.0, max_attempts=2, poll_interval=0.01)


@pytest.fixture
def catalog() -> FakeCatalog:
    return FakeCatalog(FakeStyle("invert"), FakeStyle("slow", fast=False))


@pytest.fixture
def jobs() -> MemoryJobStore:
    return MemoryJobStore()


@pytest.fixture
def blobs() -> MemoryBlobStore:
    return MemoryBlobStore()


@pytest.fixture
def renderer() -> InvertRenderer:
    return InvertRenderer()


@pytest.fixture
def service(jobs, blobs, catalog, settings) -> JobService:
    return JobService(jobs, blobs, catalog, settings)


@pytest.fixture
def translator(service, settings) -> TranslateService:
    return TranslateService(service, settings)


@pytest.fixture
def small_jpeg() -> bytes:
    rng = np.random.default_rng(0)
    return jpeg_bytes(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8))
