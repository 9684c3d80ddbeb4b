"""The ``BlobStore`` protocol: where images live between upload, processing and download."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable


@runtime_checkable
class BlobStore(Protocol):
    """A flat key → bytes store. Keys are relative paths such as ``jobs/<id>/input.jpg``.

    Implementations must make ``put`` atomic (a reader sees the old bytes or the new ones,
    never half a file) and must refuse keys that could escape their root.
    """

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing what was there."""
        ...

    def get(self, key: str) -> bytes:
        """Return the bytes under ``key``; raise ``BlobNotFound`` if there are none."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""
        ...

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds bytes."""
        ...

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key that starts with ``prefix``, in no particular order."""
        ...

    def ping(self) -> None:
        """Raise ``Unavailable`` if the store cannot be reached."""
        ...


@runtime_checkable
class PresignedUrls(Protocol):
    """A blob store that can hand out time-limited download URLs (S3 can; a folder cannot).

    Callers check ``isinstance(store, PresignedUrls)`` and serve the bytes themselves when
    the store cannot sign.
    """

    def presigned_get_url(
        self,
        key: str,
        *,
        expires_in: int = 3600,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str:
        """A URL that lets anyone ``GET`` the blob for ``expires_in`` seconds."""
        ...
