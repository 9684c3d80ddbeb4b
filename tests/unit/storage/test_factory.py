"""``open_blob_store`` picks the store from the URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixserve.core.errors import PixserveError
from pixserve.storage import LocalBlobStore, MemoryBlobStore, open_blob_store


def test_plain_path(tmp_path: Path) -> None:
    store = open_blob_store(str(tmp_path / "blobs"))
    assert isinstance(store, LocalBlobStore) and store.root == (tmp_path / "blobs").resolve()


def test_file_url(tmp_path: Path) -> None:
    store = open_blob_store(f"file://{tmp_path}/my%20blobs")
    assert isinstance(store, LocalBlobStore) and store.root == (tmp_path / "my blobs").resolve()


def test_memory() -> None:
    assert isinstance(open_blob_store("memory://"), MemoryBlobStore)


def test_s3_is_not_available_yet() -> None:
    with pytest.raises(PixserveError, match="s3"):
        open_blob_store("s3://bucket/prefix")


@pytest.mark.parametrize("url", ["", "ftp://host/x", "file://otherhost/x"])
def test_unsupported(url: str) -> None:
    with pytest.raises(PixserveError):
        open_blob_store(url)
