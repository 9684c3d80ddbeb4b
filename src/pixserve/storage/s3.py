"""``S3BlobStore``: blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2, moto …).

Needs the ``s3`` extra (``pip install 'pixserve[s3]'``, which brings boto3). Keys live under
an optional prefix, so one bucket can hold several deployments. A ``PUT`` to S3 is atomic (a
reader sees the old object or the new one), large blobs go up in parts (multipart upload),
and results can be handed out as presigned ``GET`` URLs so downloads bypass the web nodes.

Credentials and region come from :class:`S3Options` when given, else from the usual AWS
sources (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``,
``AWS_ENDPOINT_URL_S3``, ``~/.aws``, instance roles). Network failures and server errors
raise :class:`Unavailable` after botocore's own retries.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from pixserve.core.errors import BlobNotFound, PixserveError, Unavailable
from pixserve.storage.keys import validate_key, validate_prefix
from pixserve.storage.s3_options import S3Options

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: Error codes that mean "no such object" (HEAD answers a bare 404).
_MISSING = {"NoSuchKey", "404", "NotFound"}

__all__ = ["S3BlobStore", "S3Options", "make_client"]


def make_client(options: S3Options) -> S3Client:
    """A boto3 S3 client for ``options``: path-style addressing for custom endpoints (MinIO
    and friends rarely have wildcard DNS), SigV4, standard retries, bounded timeouts."""
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if options.endpoint_url else "auto"},
        retries={"mode": "standard", "max_attempts": 4},
        connect_timeout=5,
        read_timeout=60,
    )
    return boto3.client(
        "s3",
        endpoint_url=options.endpoint_url,
        region_name=options.region,
        aws_access_key_id=options.access_key_id,
        aws_secret_access_key=options.secret_access_key,
        config=config,
    )


class S3BlobStore:
    """A :class:`~pixserve.storage.base.BlobStore` in one S3 bucket, under ``prefix``.

    Keys are validated exactly like the other stores, so a key that passes unit tests is
    valid here too. The bucket must exist (``ping`` says so when it does not).
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        options: S3Options | None = None,
        client: S3Client | None = None,
    ) -> None:
        if not bucket:
            raise PixserveError("an S3 storage URL needs a bucket: s3://bucket/prefix")
        self.bucket = bucket
        prefix = prefix.strip("/")
        if prefix:
            validate_key(prefix)
        self.prefix = f"{prefix}/" if prefix else ""
        self.options = options or S3Options()
        self.client = client or make_client(self.options)
        self._transfer = TransferConfig(
            multipart_threshold=self.options.multipart_threshold,
            multipart_chunksize=self.options.multipart_chunk_size,
        )

    def __repr__(self) -> str:
        return f"S3BlobStore('s3://{self.bucket}/{self.prefix}')"

    def _object(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (one PUT, or a multipart upload when large)."""
        name = self._object(key)
        body = bytes(data)
        with _s3_errors(key):
            if len(body) >= self.options.multipart_threshold:
                self.client.upload_fileobj(
                    io.BytesIO(body), self.bucket, name, Config=self._transfer
                )
            else:
                self.client.put_object(Bucket=self.bucket, Key=name, Body=body)

    def get(self, key: str) -> bytes:
        """Return the bytes under ``key``; raise ``BlobNotFound`` if there are none."""
        name = self._object(key)
        with _s3_errors(key):
            response = self.client.get_object(Bucket=self.bucket, Key=name)
            return response["Body"].read()

    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error (S3 agrees)."""
        name = self._object(key)
        with _s3_errors(key):
            self.client.delete_object(Bucket=self.bucket, Key=name)

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds bytes."""
        name = self._object(key)
        try:
            with _s3_errors(key):
                self.client.head_object(Bucket=self.bucket, Key=name)
        except BlobNotFound:
            return False
        return True

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key that starts with ``prefix`` (listed page by page as it is consumed)."""
        validate_prefix(prefix)
        return self._list(self.prefix + prefix)

    def _list(self, full_prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        with _s3_errors(full_prefix):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full_prefix):
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.prefix) :]

    def presigned_get_url(
        self,
        key: str,
        *,
        expires_in: int = 3600,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str:
        """A URL anyone can ``GET`` the blob from for ``expires_in`` seconds, no credentials.

        ``filename`` makes browsers save it under that name; ``content_type`` overrides the
        stored type. Signing is local: no request is made, and a missing key is not noticed.
        """
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self._object(key)}
        if filename is not None:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        if content_type is not None:
            params["ResponseContentType"] = content_type
        with _s3_errors(key):
            return self.client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=int(expires_in)
            )

    def ping(self) -> None:
        """Raise ``Unavailable`` unless the bucket answers."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            raise Unavailable(f"S3 bucket {self.bucket!r}: {_describe(exc)}") from exc
        except BotoCoreError as exc:
            raise Unavailable(f"S3 is unreachable: {exc}") from exc


def _describe(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return f"{error.get('Code', '?')} {error.get('Message', '')}".strip()


@contextmanager
def _s3_errors(key: str) -> Iterator[None]:
    """Missing objects → ``BlobNotFound``; network trouble and 5xx → ``Unavailable``."""
    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in _MISSING:
            raise BlobNotFound(f"no blob under {key!r}") from None
        if status >= 500 or code in ("SlowDown", "ServiceUnavailable", "RequestTimeout"):
            raise Unavailable(f"S3 is unavailable: {_describe(exc)}") from exc
        raise PixserveError(f"S3 refused the request for {key!r}: {_describe(exc)}") from exc
    except BotoCoreError as exc:  # connection refused, timeouts, closed connections
        raise Unavailable(f"S3 is unreachable: {exc}") from exc
