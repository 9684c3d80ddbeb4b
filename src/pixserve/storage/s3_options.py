"""``S3Options``: how to reach an S3 server. Apart from ``s3.py`` so that building it needs
no boto3 (the ``s3`` extra is only required once an ``s3://`` URL is opened)."""

from __future__ import annotations

from dataclasses import dataclass

#: Blobs at least this large are uploaded in parts (multipart upload).
MULTIPART_THRESHOLD = 8 * 1024 * 1024


@dataclass(frozen=True)
class S3Options:
    """Endpoint, region and credentials; ``None`` fields fall back to the AWS defaults."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    multipart_threshold: int = MULTIPART_THRESHOLD
    multipart_chunk_size: int = MULTIPART_THRESHOLD
