"""End-to-end fixtures: real ``pixserve serve`` processes on free ports."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.browser import browser, open_page, shots  # noqa: F401 (fixtures)
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[ServerProcess]:
    """One server with one in-process worker on a fresh data dir, for the whole module."""
    proc = ServerProcess(tmp_path_factory.mktemp("pixserve-data")).start()
    try:
        yield proc
    finally:
        assert proc.terminate(), proc.log()


@pytest.fixture(scope="module")
def live_server(server: ServerProcess) -> str:
    """The base URL of :func:`server`."""
    return server.url


@pytest.fixture
def client(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=30) as c:
        yield c
