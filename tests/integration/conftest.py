"""Integration fixtures: a fresh PostgreSQL database and a real S3 server, once per session."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from pixserve.queue import upgrade
from tests.support.postgres import create_database, drop_database
from tests.support.s3 import S3Server


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A migrated, empty database on the machine's PostgreSQL, dropped after the session."""
    url = create_database()
    try:
        upgrade(url)
        yield url
    finally:
        drop_database(url)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """moto's S3 server in a subprocess on a free port."""
    server = S3Server(tmp_path_factory.mktemp("s3") / "moto.log").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """A new, empty bucket on :func:`s3_server`."""
    name = f"pixserve-{secrets.token_hex(4)}"
    s3_server.create_bucket(name)
    return name
