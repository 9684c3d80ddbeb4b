"""``open_blob_store``: turn a storage URL from the settings into a ``BlobStore``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from pixserve.core.errors import PixserveError
from pixserve.storage.base import BlobStore
from pixserve.storage.local import LocalBlobStore
from pixserve.storage.memory import MemoryBlobStore

if TYPE_CHECKING:
    from pixserve.storage.s3_options import S3Options


def open_blob_store(url: str, *, s3: S3Options | None = None) -> BlobStore:
    """Open the blob store that ``url`` names.

    * a plain path or ``file:///abs/path`` → :class:`LocalBlobStore` (the folder is created);
    * ``memory://`` → a fresh, empty :class:`MemoryBlobStore`;
    * ``s3://bucket/prefix`` → :class:`~pixserve.storage.s3.S3BlobStore` reached with ``s3``
      (endpoint, region, credentials; AWS defaults otherwise); needs the ``s3`` extra.

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
        try:
            from pixserve.storage.s3 import S3BlobStore
        except ImportError as exc:
            raise PixserveError(
                f"S3 storage needs boto3 ({exc}): pip install 'pixserve[s3]'"
            ) from exc
        parts = urlsplit(url)
        if parts.query or parts.fragment:
            raise PixserveError("an S3 storage URL is s3://bucket/prefix, without ?query")
        return S3BlobStore(parts.netloc, unquote(parts.path), options=s3)
    raise PixserveError(f"unsupported storage URL scheme {scheme!r} (use a path, file:// or s3://)")
