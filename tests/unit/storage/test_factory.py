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


def test_s3_url_names_bucket_and_prefix() -> None:
    from pixserve.storage.s3 import S3BlobStore, S3Options

    options = S3Options(endpoint_url="http://127.0.0.1:9", region="eu-west-1")
    store = open_blob_store("s3://my-bucket/some/prefix/", s3=options)
    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.prefix) == ("my-bucket", "some/prefix/")
    assert store.client.meta.region_name == "eu-west-1"
    assert store.client.meta.endpoint_url == "http://127.0.0.1:9"
    bare = open_blob_store("s3://my-bucket", s3=options)
    assert isinstance(bare, S3BlobStore) and bare.prefix == ""


@pytest.mark.parametrize("url", ["s3://", "s3:///prefix", "s3://b/p?endpoint=x", "s3://b/../x"])
def test_bad_s3_urls_are_refused(url: str) -> None:
    with pytest.raises(PixserveError):
        open_blob_store(url)


@pytest.mark.parametrize("url", ["", "ftp://host/x", "file://otherhost/x"])
def test_unsupported(url: str) -> None:
    with pytest.raises(PixserveError):
        open_blob_store(url)
