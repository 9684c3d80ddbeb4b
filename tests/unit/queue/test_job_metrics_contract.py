"""The ``job_metrics`` contract (histograms of queue wait and run time, errors per style),
on SQLite here and on PostgreSQL in ``tests/integration/queue``."""

from __future__ import annotations

from pixserve.domain import NewJob
from pixserve.domain.metrics import (
    INF,
    QUEUE_WAIT,
    QUEUE_WAIT_BUCKETS,
    RUN_TIME,
    le_label,
)
from pixserve.queue import JobStore
from tests.support.clock import FakeClock

LEASE = 30.0


def run_one(
    store: JobStore, clock: FakeClock, *, wait: float, run: float, style: str = "monet"
) -> str:
    """Enqueue a job, claim it ``wait`` seconds later, succeed ``run`` seconds after that."""
    job = store.enqueue(NewJob(style=style, input_key=f"in/{style}"))
    clock.advance(wait)
    claimed = store.claim("w1", lease_seconds=LEASE, styles=[style])
    assert [j.id for j in claimed] == [job.id]
    clock.advance(run)
    assert store.succeed(job.id, "w1", result_key="r", content_type="image/png", run_seconds=run)
    return job.id


def buckets(store: JobStore, style: str, name: str) -> dict[str, int]:
    return dict(store.job_metrics().histograms[(style, name)].buckets)


def test_empty_at_first(store: JobStore) -> None:
    metrics = store.job_metrics()
    assert dict(metrics.histograms) == {}
    assert dict(metrics.errors) == {}


def test_a_success_lands_in_its_buckets_cumulatively(store: JobStore, clock: FakeClock) -> None:
    run_one(store, clock, wait=7.0, run=0.3)
    wait = buckets(store, "monet", QUEUE_WAIT)
    assert list(wait) == [*(le_label(b) for b in QUEUE_WAIT_BUCKETS), INF]
    assert wait["5.0"] == 0 and wait["10.0"] == 1 and wait["3600.0"] == 1 and wait[INF] == 1
    run = buckets(store, "monet", RUN_TIME)
    assert run["0.25"] == 0 and run["0.5"] == 1 and run[INF] == 1
    hist = store.job_metrics().histograms[("monet", RUN_TIME)]
    assert hist.count == 1
    assert abs(hist.sum - 0.3) < 1e-6


def test_runs_add_up_per_style(store: JobStore, clock: FakeClock) -> None:
    run_one(store, clock, wait=0.05, run=0.05)
    run_one(store, clock, wait=20.0, run=4.0)
    run_one(store, clock, wait=1.0, run=1.0, style="anime")
    wait = buckets(store, "monet", QUEUE_WAIT)
    assert wait["0.1"] == 1 and wait["30.0"] == 2 and wait[INF] == 2
    run = buckets(store, "monet", RUN_TIME)
    assert run["0.05"] == 1 and run["2.5"] == 1 and run["5.0"] == 2
    counts = list(run.values())
    assert counts == sorted(counts)  # cumulative: never down along the buckets
    assert abs(store.job_metrics().histograms[("monet", QUEUE_WAIT)].sum - 20.05) < 1e-6
    assert buckets(store, "anime", RUN_TIME)["1.0"] == 1


def test_counts_survive_job_deletion(store: JobStore, clock: FakeClock) -> None:
    job_id = run_one(store, clock, wait=2.0, run=2.0)
    before = store.job_metrics()
    assert store.delete(job_id)
    assert store.job_metrics() == before
    assert before.histograms[("monet", RUN_TIME)].count == 1


def test_errors_count_per_style_and_code(store: JobStore, clock: FakeClock) -> None:
    first = store.enqueue(NewJob(style="monet", input_key="a", max_attempts=2))
    clock.advance(1)
    second = store.enqueue(NewJob(style="monet", input_key="b"))
    clock.advance(1)
    assert [j.id for j in store.claim("w1", lease_seconds=LEASE)] == [first.id]
    assert store.retry(first.id, "w1", code="model_failed", message="boom")
    assert store.claim("w1", lease_seconds=LEASE)[0].id == first.id
    assert store.fail(first.id, "w1", code="bad_input", message="no")
    assert store.claim("w1", lease_seconds=LEASE)[0].id == second.id
    assert store.fail(second.id, "w1", code="bad_input", message="no")
    assert not store.fail(second.id, "w1", code="bad_input", message="again")  # lost: no count
    errors = dict(store.job_metrics().errors)
    assert errors == {("monet", "model_failed"): 1, ("monet", "bad_input"): 2}
    assert store.delete(first.id)
    assert dict(store.job_metrics().errors) == errors


def test_a_lost_success_records_nothing(store: JobStore, clock: FakeClock) -> None:
    job = store.enqueue(NewJob(style="monet", input_key="a"))
    store.claim("w1", lease_seconds=LEASE)
    assert not store.succeed(job.id, "w2", result_key="r", content_type="x", run_seconds=1.0)
    assert dict(store.job_metrics().histograms) == {}
