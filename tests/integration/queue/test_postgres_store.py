"""The ``JobStore`` contract on PostgreSQL, plus what only PostgreSQL has: ``SKIP LOCKED``
claims between connections, ``LISTEN/NOTIFY`` wake-ups, and errors while the server is away.

The contract tests are the very functions of ``tests/unit/queue/test_store_contract.py``,
``test_upkeep_contract.py``, ``test_job_metrics_contract.py`` and ``test_finish_contract.py``,
collected here again with ``store`` and ``outbox`` fixtures on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import psycopg.sql
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from pixserve.core.errors import Unavailable
from pixserve.domain import JobStatus, NewJob
from pixserve.queue import (
    JobStore,
    SqlJobStore,
    SqlOutbox,
    current_revision,
    head_revision,
    upgrade,
)
from tests.support.clock import FakeClock
from tests.unit.queue import (
    test_finish_contract,
    test_job_metrics_contract,
    test_store_contract,
    test_upkeep_contract,
)

# Collect every contract test in this module too (explicitly, by the test_ prefix pytest uses).
for _contract in (
    test_store_contract,
    test_upkeep_contract,
    test_job_metrics_contract,
    test_finish_contract,
):
    for _name in dir(_contract):
        if _name.startswith("test_"):
            globals()[_name] = getattr(_contract, _name)

pytestmark = pytest.mark.integration


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(pg_url: str, clock: FakeClock) -> Iterator[JobStore]:
    """A store on the session's PostgreSQL database, emptied before each test."""
    s = SqlJobStore(pg_url, clock=clock)
    with s._engine.begin() as conn:
        conn.execute(text("TRUNCATE jobs, style_stats, job_metrics, deliveries"))
    yield s
    s.close()


@pytest.fixture
def outbox(pg_url: str, clock: FakeClock, store: SqlJobStore) -> Iterator[SqlOutbox]:
    """The outbox beside :func:`store` (which emptied it)."""
    box = SqlOutbox(pg_url, clock=clock)
    yield box
    box.close()


def test_schema_is_at_head_and_upgrade_is_idempotent(pg_url: str) -> None:
    upgrade(pg_url)
    assert current_revision(pg_url) == head_revision()


def test_claim_uses_skip_locked(store: SqlJobStore) -> None:
    assert store._moves is not None
    for filtered in (False, True):
        sql, _ = store._moves.claim_sql(filtered, 1)
        sql = " ".join(sql.split())
        assert sql.startswith("WITH batch AS MATERIALIZED")
        assert "FOR UPDATE SKIP LOCKED" in sql and "RETURNING" in sql


#: PostgreSQL types of the claim's parameters, as psycopg sends them.
_PG_TYPES = {float: "float8", int: "integer", str: "text", datetime: "timestamptz", list: "text[]"}


def _plan(conn: Connection, sql: str, params: dict[str, object], *, generic: bool) -> list[str]:
    """EXPLAIN the claim as a custom plan (values known) or as the generic plan PostgreSQL
    switches to for a statement a connection has prepared and run often."""
    if not generic:
        return [row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql, params)]
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", sql)))
    numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", sql)
    types = ", ".join(_PG_TYPES[type(params[name])] for name in names)
    conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
    conn.exec_driver_sql(f"PREPARE claim ({types}) AS " + numbered)
    try:
        # EXECUTE takes no bound parameters: the values go into its text, typed.
        driver = conn.connection.driver_connection
        values = ", ".join(
            f"{psycopg.sql.Literal(params[name]).as_string(driver)}::{_PG_TYPES[type(params[name])]}"
            for name in names
        )
        return [row[0] for row in conn.exec_driver_sql(f"EXPLAIN EXECUTE claim({values})")]
    finally:
        conn.exec_driver_sql("DEALLOCATE claim")
        conn.exec_driver_sql("RESET plan_cache_mode")


@pytest.mark.parametrize("generic", [False, True], ids=["custom-plan", "generic-plan"])
@pytest.mark.parametrize("filtered", [False, True], ids=["all-styles", "some-styles"])
def test_claim_reads_the_queue_in_index_order_without_sorting(
    store: SqlJobStore, filtered: bool, generic: bool
) -> None:
    """A claim must cost the same with 5 or 50,000 jobs waiting: no sort of the queue, no scan
    of the table, whether PostgreSQL plans it for the values at hand or reuses a generic plan
    (which knows nothing of them: a bound ``LIMIT`` made it hash-join the whole table)."""
    assert store._moves is not None
    for i in range(300):
        store.enqueue(NewJob(style=f"s{i % 3}", input_key="k"))
    with store._engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE jobs")
    sql, params = store._moves.claim_sql(filtered, 1)
    now = datetime.now(UTC)
    params |= {"p_worker": "w1", "p_now": now, "p_lease": now + timedelta(seconds=30)}
    if filtered:
        params["p_styles"] = ["s1", "s2"]
    with store._engine.connect() as conn:
        plan = _plan(conn, sql, params, generic=generic)
    text_plan = "\n".join(plan)
    assert not [line for line in plan if "Sort" in line], text_plan
    assert not [line for line in plan if "Seq Scan" in line or "Hash" in line], text_plan
    assert any("ix_jobs_" in line and "queue_order" in line for line in plan), text_plan
    assert len(store.claim("w1", lease_seconds=30, styles={"s1", "s2"} if filtered else None)) == 1


def test_the_lease_sweep_reads_only_running_jobs(store: SqlJobStore) -> None:
    """Every worker process sweeps once a second: it must not scan the table's history (the
    planner can match the partial index only because the status is an SQL literal)."""
    from pixserve.queue.pg_moves import _requeue

    for i in range(300):
        store.enqueue(NewJob(style="s", input_key=f"k{i}"))
    with store._engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE jobs")
    sweep = _requeue()
    with store._engine.connect() as conn:
        plan = "\n".join(
            row[0]
            for row in conn.exec_driver_sql(
                "EXPLAIN " + sweep.sql, sweep.params({"p_now": datetime.now(UTC)})
            )
        )
        assert "ix_jobs_running" in plan and "Seq Scan" not in plan, plan


def test_a_locked_job_is_skipped_not_waited_for(pg_url: str, store: SqlJobStore) -> None:
    first = store.enqueue(NewJob(style="s", input_key="k1"))
    second = store.enqueue(NewJob(style="s", input_key="k2"))
    other = SqlJobStore(pg_url)
    try:
        # Another transaction holds the row lock of the oldest job and does not commit.
        with other._engine.connect() as conn:
            conn.execute(text("SELECT id FROM jobs WHERE id = :id FOR UPDATE"), {"id": first.id})
            claimed = store.claim("w1", lease_seconds=30)
            assert [j.id for j in claimed] == [second.id]
            conn.rollback()
        assert [j.id for j in store.claim("w2", lease_seconds=30)] == [first.id]
    finally:
        other.close()


class CountingEvent(threading.Event):
    """An event that counts how often it was set: one count per wake-up."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self._lock = threading.Lock()

    def set(self) -> None:
        with self._lock:
            self.count += 1
        super().set()

    def reaches(self, count: int, seconds: float = 10.0) -> bool:
        deadline = time.monotonic() + seconds
        while self.count < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.count >= count


def listening(pg_url: str) -> tuple[SqlJobStore, CountingEvent, Callable[[], None]]:
    """A second store watching the queue, once its own connect wake-up has come: from then
    on, each count is one NOTIFY."""
    listener = SqlJobStore(pg_url)
    woke = CountingEvent()
    unwatch = listener.watch(woke)
    assert listener._listener is not None
    assert listener._listener.connected.wait(10), "LISTEN connection never came up"
    assert woke.reaches(1), "the listener did not wake its watchers on connecting"
    return listener, woke, unwatch


def test_enqueue_in_one_process_wakes_watchers_of_another(pg_url: str, store: SqlJobStore) -> None:
    """Two stores have no shared memory: only LISTEN/NOTIFY can carry the wake-up across."""
    listener, woke, unwatch = listening(pg_url)
    try:
        base = woke.count
        store.enqueue(NewJob(style="s", input_key="k"))
        assert woke.reaches(base + 1), "no NOTIFY reached the other store"
    finally:
        unwatch()
        listener.close()


def test_notifications_come_from_retry_and_release(pg_url: str, store: SqlJobStore) -> None:
    listener, woke, unwatch = listening(pg_url)
    try:
        base = woke.count
        store.enqueue(NewJob(style="s", input_key="k"))
        assert woke.reaches(base + 1), "enqueue did not notify"
        [job] = store.claim("w1", lease_seconds=30)
        assert store.retry(job.id, "w1", code="boom", message="boom")
        assert woke.reaches(base + 2), "retry did not notify"
        [job] = store.claim("w1", lease_seconds=30)
        assert store.release(job.id, "w1")
        assert woke.reaches(base + 3), "release did not notify"
        assert store.get(job.id).status is JobStatus.QUEUED  # type: ignore[union-attr]
    finally:
        unwatch()
        listener.close()


def test_jobs_ended_or_handed_back_by_another_process_are_announced(
    pg_url: str, store: SqlJobStore
) -> None:
    """A web process's event hub hears of the moves of workers in other processes."""
    web = SqlJobStore(pg_url)
    heard: list[str] = []
    unwatch = web.watch_moves(heard.append)
    try:
        assert web._moves_listener is not None
        assert web._moves_listener.connected.wait(10), "LISTEN connection never came up"
        for _ in range(2):
            store.enqueue(NewJob(style="s", input_key="k"))
        time.sleep(0.3)
        assert heard == []  # queuing is not a move a hub waits for
        [done] = store.claim("w1", lease_seconds=30)
        assert store.succeed(done.id, "w1", result_key="r", content_type="image/png")
        [back] = store.claim("w1", lease_seconds=30)
        assert store.release(back.id, "w1")
        deadline = time.monotonic() + 10
        while len(heard) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert heard == [done.id, back.id]
    finally:
        unwatch()
        web.close()
    assert web._moves_listener is None


def test_a_store_hears_its_own_moves_once_not_again_through_postgres(
    pg_url: str, store: SqlJobStore
) -> None:
    """Worker and web app in one process share the store: NOTIFY must not echo its moves."""
    heard: list[str] = []
    unwatch = store.watch_moves(heard.append)
    try:
        assert store._moves_listener is not None
        assert store._moves_listener.connected.wait(10), "LISTEN connection never came up"
        store.enqueue(NewJob(style="s", input_key="k"))
        [job] = store.claim("w1", lease_seconds=30)
        assert store.succeed(job.id, "w1", result_key="r", content_type="image/png")
        assert heard == [job.id]  # at once, from the store itself
        time.sleep(1.0)  # time for an echo through PostgreSQL to arrive, if one were sent
        assert heard == [job.id]
    finally:
        unwatch()


def test_unreachable_server_raises_unavailable() -> None:
    from tests.support.server import free_port

    store = SqlJobStore(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere")
    with pytest.raises(Unavailable):
        store.ping()
    with pytest.raises(Unavailable):
        store.claim("w1", lease_seconds=30)
    with pytest.raises(Unavailable):
        store.enqueue(NewJob(style="s", input_key="k"))
    store.close()


def test_moves_recover_once_their_connections_are_killed(pg_url: str, store: SqlJobStore) -> None:
    """A restarted server closes every pooled connection: a move fails once as Unavailable
    (the worker backs off and retries), the idle ones are dropped, and the next move works."""
    from tests.support.postgres import admin_connect

    store.enqueue(NewJob(style="s", input_key="k"))
    [job] = store.claim("w1", lease_seconds=30)
    assert store.heartbeat(job.id, "w1", lease_seconds=30)
    database = make_url(pg_url).database
    with admin_connect() as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchone()
    assert killed is not None and killed[0] >= 1
    with pytest.raises(Unavailable):
        store.heartbeat(job.id, "w1", lease_seconds=30)
    assert store.heartbeat(job.id, "w1", lease_seconds=30, progress=0.5)
    assert store.succeed(job.id, "w1", result_key="r", content_type="image/png")
    with contextlib.suppress(Unavailable):  # SQLAlchemy's pool was killed too: it fails once
        store.ping()
    finished = store.get(job.id)
    assert finished is not None and finished.status is JobStatus.SUCCEEDED


def test_a_claimed_job_reads_back_exactly_as_get_reads_it(store: SqlJobStore) -> None:
    """The claim's rows come through psycopg, not SQLAlchemy's types: same Job either way."""
    from pixserve.domain import Crop

    store.enqueue(
        NewJob(
            style="s",
            input_key="jobs/x/input.png",
            crop=Crop(3, 4, 50, 60),
            params={"strength": 0.7, "tags": ["a", "b"]},
            email="a@example.com",
            webhook_url="https://example.com/hook",
            max_attempts=5,
            lang="es",
        )
    )
    [claimed] = store.claim("w1", lease_seconds=30)
    assert claimed == store.get(claimed.id)
    assert claimed.crop == Crop(3, 4, 50, 60) and claimed.params["tags"] == ["a", "b"]
    assert claimed.lease_expires_at is not None and claimed.lease_expires_at.utcoffset() is not None
