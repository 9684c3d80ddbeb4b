"""The intake state on a real PostgreSQL: one pause and one budget shared by every node, no
budget overshoot when nodes race, and a paused intake that lets the queue drain."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from pixserve.core.errors import BudgetExhausted, IntakePaused
from pixserve.core.settings import Settings
from pixserve.domain.job import JobStatus, NewJob
from pixserve.queue import SqlJobStore
from pixserve.queue.intake_sql import SqlIntakeStore
from pixserve.services.intake import IntakeService
from tests.support.clock import FakeClock


@pytest.fixture
def fresh(pg_url: str) -> Iterator[str]:
    store = SqlIntakeStore(pg_url)
    with store._engine.begin() as conn:
        conn.execute(text("TRUNCATE intake_counts"))
        conn.execute(text("UPDATE intake_switch SET paused = false, note = NULL"))
        conn.execute(text("DELETE FROM jobs"))
    store.close()
    yield pg_url


#: The nodes' shared clock, standing still in the middle of an hour: the budget counts per
#: UTC clock hour, and a test run across the hour's end would see its count start again.
CLOCK = FakeClock(datetime(2026, 6, 1, 12, 30, tzinfo=UTC))


def node(url: str, tmp_path, **limits) -> IntakeService:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, **limits)
    return IntakeService(SqlIntakeStore(url), SqlJobStore(url), settings, clock=CLOCK)


def test_a_pause_on_one_node_closes_every_node(fresh: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a, b = node(fresh, tmp_path), node(fresh, tmp_path)
    a.pause("maintenance")
    with pytest.raises(IntakePaused):
        b.check()
    assert b.state().reason == "paused"
    b.resume()
    assert a.switch(fresh=True).paused is False
    a.admit("pencil")


def test_nodes_racing_for_the_budget_never_overshoot(fresh: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    nodes = [node(fresh, tmp_path, budget_per_hour=25) for _ in range(4)]
    admitted = []
    refused = []
    lock = threading.Lock()

    def submit(intake: IntakeService) -> None:
        for _ in range(15):
            try:
                intake.admit("pencil")
                outcome = admitted
            except BudgetExhausted:
                outcome = refused
            with lock:
                outcome.append(1)

    threads = [threading.Thread(target=submit, args=(n,)) for n in nodes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"4 nodes × 15 submissions, budget 25/hour: {len(admitted)} admitted")
    assert (len(admitted), len(refused)) == (25, 35)
    assert nodes[0].stats()["budget"]["used_this_hour"] == 25  # type: ignore[index]


def test_intake_stops_and_the_queue_drains(fresh: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    web = node(fresh, tmp_path, budget_per_hour=3)
    jobs = SqlJobStore(fresh)
    for i in range(3):
        web.admit("pencil")
        jobs.enqueue(NewJob(id=f"drain{i}", style="pencil", input_key="k", max_attempts=1))
    with pytest.raises(BudgetExhausted):
        web.admit("pencil")
    web.pause()
    with pytest.raises(IntakePaused):
        web.admit("pencil")
    # A worker (another process in production) claims and finishes every queued job.
    while claimed := jobs.claim("worker-1", lease_seconds=30):
        jobs.succeed(claimed[0].id, "worker-1", result_key="r", content_type="image/jpeg")
    counts = jobs.counts()
    assert counts.get(("pencil", JobStatus.SUCCEEDED)) == 3
    assert not counts.get(("pencil", JobStatus.QUEUED))
