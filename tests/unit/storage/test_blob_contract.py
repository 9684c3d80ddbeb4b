"""The ``BlobStore`` contract, run against ``MemoryBlobStore`` and ``LocalBlobStore``."""

from __future__ import annotations

import pytest

from pixserve.core.errors import BlobNotFound, InvalidRequest
from pixserve.storage import BlobStore

BAD_KEYS = [
    "",
    "/etc/passwd",
    "../x",
    "a/../../b",
    "a/..",
    "./a",
    "a/./b",
    "a//b",
    "a/",
    "a\\b",
    "..\\x",
    "a\x00b",
    "a\nb",
    ".x.1234.pixserve-tmp",
]


def test_is_a_blob_store(blobs: BlobStore) -> None:
    assert isinstance(blobs, BlobStore)


def test_put_get_overwrite_delete(blobs: BlobStore) -> None:
    key = "jobs/abc/input.jpg"
    assert not blobs.exists(key)
    blobs.put(key, b"one")
    assert blobs.exists(key)
    assert blobs.get(key) == b"one"
    blobs.put(key, bytearray(b"two!"))  # type: ignore[arg-type]  # buffers are accepted
    assert blobs.get(key) == b"two!"
    blobs.delete(key)
    assert not blobs.exists(key)
    with pytest.raises(BlobNotFound):
        blobs.get(key)
    blobs.delete(key)  # missing is fine


def test_empty_blob(blobs: BlobStore) -> None:
    blobs.put("empty", b"")
    assert blobs.get("empty") == b""
    assert blobs.exists("empty")


def test_folder_is_not_a_blob(blobs: BlobStore) -> None:
    blobs.put("a/b/c", b"x")
    assert not blobs.exists("a/b")
    with pytest.raises(BlobNotFound):
        blobs.get("a")
    blobs.delete("a")
    assert blobs.get("a/b/c") == b"x"


def test_keys_by_prefix(blobs: BlobStore) -> None:
    for key in ["jobs/1/in.jpg", "jobs/1/out.jpg", "jobs/12/in.jpg", "other/x", "top"]:
        blobs.put(key, b"x")
    assert sorted(blobs.keys()) == [
        "jobs/1/in.jpg",
        "jobs/1/out.jpg",
        "jobs/12/in.jpg",
        "other/x",
        "top",
    ]
    assert sorted(blobs.keys("jobs/1")) == ["jobs/1/in.jpg", "jobs/1/out.jpg", "jobs/12/in.jpg"]
    assert sorted(blobs.keys("jobs/1/")) == ["jobs/1/in.jpg", "jobs/1/out.jpg"]
    assert sorted(blobs.keys("jobs/1/o")) == ["jobs/1/out.jpg"]
    assert sorted(blobs.keys("t")) == ["top"]
    assert list(blobs.keys("nothing/")) == []
    assert list(blobs.keys("jobs/9")) == []


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_refused(blobs: BlobStore, key: str) -> None:
    with pytest.raises(InvalidRequest):
        blobs.put(key, b"x")
    with pytest.raises(InvalidRequest):
        blobs.get(key)
    with pytest.raises(InvalidRequest):
        blobs.exists(key)
    with pytest.raises(InvalidRequest):
        blobs.delete(key)


@pytest.mark.parametrize("prefix", ["../", "/etc", "a/../", "a\\"])
def test_bad_prefixes_are_refused(blobs: BlobStore, prefix: str) -> None:
    with pytest.raises(InvalidRequest):
        blobs.keys(prefix)


def test_ping(blobs: BlobStore) -> None:
    blobs.ping()
