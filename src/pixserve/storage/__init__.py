"""Blob storage: where images live between upload, processing and download."""

from pixserve.storage.base import BlobStore, PresignedUrls
from pixserve.storage.factory import open_blob_store
from pixserve.storage.keys import validate_key
from pixserve.storage.local import LocalBlobStore
from pixserve.storage.memory import MemoryBlobStore

__all__ = [
    "BlobStore",
    "LocalBlobStore",
    "MemoryBlobStore",
    "PresignedUrls",
    "open_blob_store",
    "validate_key",
]
