"""``open_blob_store``: turn a storage URL from the settings into a ``BlobStore``."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from pixserve.core.errors import PixserveError
from pixserve.storage.base import BlobStore
from pixserve.storage.local import LocalBlobStore
from pixserve.storage.memory import MemoryBlobStore


def open_blob_store(url: str) -> BlobStore:
    """Open the blob store that ``url`` names.

    * a plain path or ``file:///abs/path`` → :class:`LocalBlobStore` (the folder is created);
    * ``memory://`` → a fresh, empty :class:`MemoryBlobStore`;
    * ``s3://bucket/prefix`` → not available yet: raises :class:`PixserveError`.

    Any other scheme raises :class:`PixserveError`.
    """
    if not url or not url.strip():
        raise PixserveError("the storage URL is empty")
    url = url.strip()
    scheme, sep, _ = url.partition("://")
    if not sep:
        return LocalBlobStore(Path(url))
    scheme = scheme.lower()
    if scheme == "memory":
        return MemoryBlobStore()
    if scheme == "file":
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise PixserveError(f"file:// storage must be local, got host {parts.netloc!r}")
        return LocalBlobStore(Path(unquote(parts.path)))
    if scheme == "s3":
        raise PixserveError(
            "S3 storage is not available in this version of pixserve yet; it will need the "
            "`s3` extra (pip install 'pixserve[s3]'). Use a folder path for now."
        )
    raise PixserveError(f"unsupported storage URL scheme {scheme!r} (use a path or file://)")
