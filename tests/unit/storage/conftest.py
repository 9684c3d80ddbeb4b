"""Blob stores for the contract tests: every test runs on memory and on local disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixserve.storage import BlobStore, LocalBlobStore, MemoryBlobStore


@pytest.fixture(params=["memory", "local"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "memory":
        return MemoryBlobStore()
    return LocalBlobStore(tmp_path / "blobs")
