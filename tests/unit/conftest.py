"""Unit-test wiring: services over a migrated SQLite copy, in-memory blobs, and a fake
catalog/renderer."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pixserve.core.settings import Settings
from pixserve.queue import SqlJobStore, upgrade
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


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; tests copy it instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "jobs.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_db: Path) -> str:
    """A fresh job database of this test's own (a copy of :func:`migrated_db`)."""
    path = tmp_path / "jobs.db"
    shutil.copyfile(migrated_db, path)
    return f"sqlite:///{path}"


@pytest.fixture
def jobs(sqlite_url: str) -> Iterator[SqlJobStore]:
    store = SqlJobStore(sqlite_url)
    yield store
    store.close()


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
