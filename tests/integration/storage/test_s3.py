"""``S3BlobStore`` against a real S3 server (moto's, started by the test session).

The ``BlobStore`` contract is the very functions of ``tests/unit/storage/test_blob_contract.py``,
collected here again with a ``blobs`` fixture on S3; then what only S3 has: prefixes, multipart
uploads, presigned URLs, and errors while the server is away.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from pixserve.core.errors import BlobNotFound, Unavailable
from pixserve.storage import BlobStore, PresignedUrls, open_blob_store
from pixserve.storage.s3 import S3BlobStore, S3Options
from tests.support.s3 import CREDENTIALS, S3Server
from tests.support.server import free_port
from tests.unit.storage import test_blob_contract

# Collect every contract test in this module too (explicitly, by the test_ prefix pytest uses).
for _name in dir(test_blob_contract):
    if _name.startswith("test_"):
        globals()[_name] = getattr(test_blob_contract, _name)

pytestmark = pytest.mark.integration


def options(server: S3Server, **overrides: int) -> S3Options:
    return S3Options(
        endpoint_url=server.endpoint,
        region=CREDENTIALS["AWS_DEFAULT_REGION"],
        access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        **overrides,
    )


@pytest.fixture
def blobs(s3_server: S3Server, s3_bucket: str) -> BlobStore:
    return open_blob_store(f"s3://{s3_bucket}/deploy-1", s3=options(s3_server))


def test_prefix_keeps_deployments_apart(s3_server: S3Server, s3_bucket: str) -> None:
    one = open_blob_store(f"s3://{s3_bucket}/one", s3=options(s3_server))
    two = open_blob_store(f"s3://{s3_bucket}/two", s3=options(s3_server))
    whole = open_blob_store(f"s3://{s3_bucket}", s3=options(s3_server))
    one.put("jobs/a/input.jpg", b"1")
    two.put("jobs/a/input.jpg", b"2")
    assert one.get("jobs/a/input.jpg") == b"1" and two.get("jobs/a/input.jpg") == b"2"
    assert list(one.keys()) == ["jobs/a/input.jpg"]
    assert sorted(whole.keys()) == ["one/jobs/a/input.jpg", "two/jobs/a/input.jpg"]
    one.delete("jobs/a/input.jpg")
    assert two.exists("jobs/a/input.jpg") and not one.exists("jobs/a/input.jpg")


def test_large_blobs_go_up_in_parts(s3_server: S3Server, s3_bucket: str) -> None:
    mib = 1024 * 1024
    store = S3BlobStore(
        s3_bucket,
        options=options(s3_server, multipart_threshold=5 * mib, multipart_chunk_size=5 * mib),
    )
    data = os.urandom(11 * mib + 123)
    store.put("big.bin", data)
    assert store.get("big.bin") == data
    head = store.client.head_object(Bucket=s3_bucket, Key="big.bin", PartNumber=1)
    assert head["PartsCount"] == 3, "the object was not uploaded in parts"
    store.put("small.bin", b"x" * 100)
    small = store.client.head_object(Bucket=s3_bucket, Key="small.bin", PartNumber=1)
    assert "PartsCount" not in small


def test_presigned_url_downloads_without_credentials(s3_server: S3Server, s3_bucket: str) -> None:
    store = open_blob_store(f"s3://{s3_bucket}/p", s3=options(s3_server))
    assert isinstance(store, PresignedUrls)
    store.put("jobs/x/result.jpg", b"\xff\xd8result")
    url = store.presigned_get_url(
        "jobs/x/result.jpg", expires_in=60, filename="pixserve-x.jpg", content_type="image/jpeg"
    )
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url
    response = httpx.get(url)
    assert response.status_code == 200 and response.content == b"\xff\xd8result"
    assert response.headers["content-type"] == "image/jpeg"
    assert 'filename="pixserve-x.jpg"' in response.headers["content-disposition"]
    # The signature covers the key: another key with the same signature is refused.
    forged = url.replace("result.jpg", "input.jpg")
    assert httpx.get(forged).status_code == 403


def test_local_store_cannot_presign(tmp_path: os.PathLike[str]) -> None:
    assert not isinstance(open_blob_store(str(tmp_path)), PresignedUrls)


def test_missing_bucket_is_not_ready(s3_server: S3Server) -> None:
    store = open_blob_store("s3://no-such-bucket", s3=options(s3_server))
    with pytest.raises(Unavailable):
        store.ping()


def test_unreachable_server_is_unavailable_not_missing() -> None:
    dead = S3Options(
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region="us-east-1",
        access_key_id="x",
        secret_access_key="y",
    )
    store = open_blob_store("s3://bucket", s3=dead)
    for call in (store.ping, lambda: store.get("k"), lambda: store.put("k", b"x")):
        with pytest.raises(Unavailable):
            call()
    with pytest.raises(Unavailable):
        list(store.keys())
    with pytest.raises(Unavailable):
        store.exists("k")


def test_missing_key_is_blob_not_found(blobs: BlobStore) -> None:
    with pytest.raises(BlobNotFound):
        blobs.get("jobs/none/input.jpg")


@pytest.fixture
def _no_aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    yield


def test_credentials_from_aws_environment(
    s3_server: S3Server, s3_bucket: str, monkeypatch: pytest.MonkeyPatch, _no_aws_env: None
) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_server.endpoint)
    store = open_blob_store(f"s3://{s3_bucket}/env")
    store.put("k", b"v")
    assert store.get("k") == b"v"
