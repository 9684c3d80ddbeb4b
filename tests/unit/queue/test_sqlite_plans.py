"""SQLite reads the queue through the partial indexes of migration 0004, never by scanning the
table or sorting it: a queue with a long history must claim as fast as a new one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from pixserve.domain import NewJob
from pixserve.queue import SqlJobStore, upgrade


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlJobStore]:
    url = f"sqlite:///{tmp_path}/jobs.db"
    upgrade(url)
    s = SqlJobStore(url)
    for i in range(60):
        s.enqueue(NewJob(style=f"s{i % 3}", input_key="k"))
    # Some history: finished jobs the queue's indexes must not hold.
    for job in s.claim("w0", lease_seconds=30, limit=10):
        s.succeed(job.id, "w0", result_key="r", content_type="image/png")
    with s._engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    yield s
    s.close()


def _plan_of(store: SqlJobStore, prefix: str, call: object) -> str:
    """EXPLAIN QUERY PLAN of the statement starting with ``prefix`` that ``call()`` runs."""
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if " ".join(statement.split()).startswith(prefix):
            seen.append((statement, parameters))

    event.listen(store._engine, "before_cursor_execute", record)
    try:
        call()  # type: ignore[operator]
    finally:
        event.remove(store._engine, "before_cursor_execute", record)
    assert seen, f"no statement starting with {prefix!r} ran"
    statement, parameters = seen[0]
    with store._engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return "\n".join(str(row[-1]) for row in rows)


@pytest.mark.parametrize("styles", [None, {"s1", "s2"}], ids=["all-styles", "some-styles"])
def test_claim_walks_a_queue_index_in_order(store: SqlJobStore, styles: set[str] | None) -> None:
    plan = _plan_of(store, "WITH batch", lambda: store.claim("w1", lease_seconds=30, styles=styles))
    assert "queue_order" in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # no sort
    assert "SCAN jobs\n" not in plan + "\n", plan  # no full scan of the table


def test_position_counts_through_the_queue_index(store: SqlJobStore) -> None:
    job = store.enqueue(NewJob(style="s0", input_key="k"))
    plan = _plan_of(store, "SELECT count(*)", lambda: store.position(job.id))
    assert "ix_jobs_queue_order" in plan, plan


def test_queued_ahead_counts_through_the_queue_index(store: SqlJobStore) -> None:
    job = store.enqueue(NewJob(style="s0", input_key="k"))
    plan = _plan_of(store, "SELECT jobs.style, count(*)", lambda: store.queued_ahead(job.id))
    assert "queue_order" in plan, plan  # either partial index: queued jobs only
    assert "SCAN jobs\n" not in plan + "\n", plan


def test_running_reads_only_running_jobs(store: SqlJobStore) -> None:
    store.claim("w1", lease_seconds=30)
    plan = _plan_of(store, "SELECT jobs.id", store.running)
    assert "ix_jobs_running" in plan, plan
    assert "SCAN jobs\n" not in plan + "\n", plan


def test_the_lease_sweep_reads_only_running_jobs(store: SqlJobStore) -> None:
    store._next_sweep = None  # the fixture's claim swept a moment ago
    plan = _plan_of(
        store, "UPDATE jobs SET status=CASE", lambda: store.claim("w1", lease_seconds=30)
    )
    assert "ix_jobs_running" in plan, plan
