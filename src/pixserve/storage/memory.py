"""``MemoryBlobStore``: a dict behind a lock, for unit tests of the layers above storage."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from pixserve.core.errors import BlobNotFound
from pixserve.storage.keys import validate_key, validate_prefix


class MemoryBlobStore:
    """A thread-safe in-memory :class:`~pixserve.storage.base.BlobStore`.

    It validates keys exactly like :class:`~pixserve.storage.local.LocalBlobStore`, so a key
    that passes unit tests also passes in production.
    """

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryBlobStore({len(self._blobs)} blobs)"

    def put(self, key: str, data: bytes) -> None:
        """Store a copy of ``data`` under ``key``, replacing what was there."""
        validate_key(key)
        blob = bytes(data)
        with self._lock:
            self._blobs[key] = blob

    def get(self, key: str) -> bytes:
        """Return the bytes under ``key``; raise ``BlobNotFound`` if there are none."""
        validate_key(key)
        with self._lock:
            try:
                return self._blobs[key]
            except KeyError:
                raise BlobNotFound(f"no blob under {key!r}") from None

    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""
        validate_key(key)
        with self._lock:
            self._blobs.pop(key, None)

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds bytes."""
        validate_key(key)
        with self._lock:
            return key in self._blobs

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key that starts with ``prefix`` (a snapshot taken when called)."""
        validate_prefix(prefix)
        with self._lock:
            matching = [k for k in self._blobs if k.startswith(prefix)]
        return iter(matching)

    def ping(self) -> None:
        """Always reachable."""
