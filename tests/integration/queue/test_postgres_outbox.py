"""The ``Outbox`` contract on PostgreSQL: the very functions of
``tests/unit/queue/test_outbox_contract.py``, collected again with an ``outbox`` on the
session's PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from pixserve.queue.outbox import Outbox
from pixserve.queue.outbox_sql import SqlOutbox
from tests.support.clock import FakeClock
from tests.unit.queue import test_outbox_contract

for _name in dir(test_outbox_contract):
    if _name.startswith("test_"):
        globals()[_name] = getattr(test_outbox_contract, _name)

pytestmark = pytest.mark.integration


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def outbox(pg_url: str, clock: FakeClock) -> Iterator[Outbox]:
    """An outbox on the session's PostgreSQL database, emptied before each test."""
    box = SqlOutbox(pg_url, clock=clock)
    with box._engine.begin() as conn:
        conn.execute(text("TRUNCATE deliveries"))
    yield box
    box.close()
