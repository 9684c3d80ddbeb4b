"""The ``job_metrics`` contract on PostgreSQL: the success's buckets come from the same
statement as the success (``WITH done AS (UPDATE …)``) and the psycopg fast path."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from pixserve.queue import JobStore, SqlJobStore
from tests.support.clock import FakeClock
from tests.unit.queue import test_job_metrics_contract

for _name in dir(test_job_metrics_contract):
    if _name.startswith("test_"):
        globals()[_name] = getattr(test_job_metrics_contract, _name)

pytestmark = pytest.mark.integration


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(pg_url: str, clock: FakeClock) -> Iterator[JobStore]:
    s = SqlJobStore(pg_url, clock=clock)
    with s._engine.begin() as conn:
        conn.execute(text("TRUNCATE jobs, style_stats, job_metrics"))
    yield s
    s.close()
