"""The ``JobStore`` contract, on ``SqlJobStore`` (SQLite here, PostgreSQL in
``tests/integration/queue``)."""

from __future__ import annotations

import threading
from collections.abc import Collection
from datetime import UTC, timedelta, timezone

import pytest

from pixserve.domain import Crop, JobStatus, NewJob
from pixserve.queue import LEASE_EXPIRED, JobStore
from pixserve.queue.run_stats import WARMUP, WEIGHT, RunStats, next_mean
from tests.support.clock import FakeClock

LEASE = 30.0


def enqueue(store: JobStore, clock: FakeClock, style: str = "monet", max_attempts: int = 3) -> str:
    """Enqueue one job a second after the previous one; return its id."""
    clock.advance(1)
    new = NewJob(style=style, input_key=f"in/{style}", max_attempts=max_attempts)
    return store.enqueue(new).id


def claim_one(store: JobStore, worker: str = "w1", styles: Collection[str] | None = None) -> str:
    jobs = store.claim(worker, lease_seconds=LEASE, styles=styles)
    assert len(jobs) == 1
    return jobs[0].id


def test_is_a_job_store(store: JobStore) -> None:
    assert isinstance(store, JobStore)


def test_enqueue_and_get_round_trip_every_field(store: JobStore, clock: FakeClock) -> None:
    new = NewJob(
        style="anime",
        input_key="jobs/x/input.jpg",
        crop=Crop(1, 2, 300, 400),
        params={"strength": 0.5, "tags": ["a", "b"], "nested": {"k": None}},
        email="a@example.org",
        webhook_url="https://example.org/hook",
        max_attempts=5,
    )
    created = store.enqueue(new)
    got = store.get(new.id)
    assert got == created
    assert got is not None
    assert got.id == new.id
    assert got.style == "anime"
    assert got.status is JobStatus.QUEUED
    assert got.input_key == "jobs/x/input.jpg"
    assert got.crop == Crop(1, 2, 300, 400)
    assert got.params == {"strength": 0.5, "tags": ["a", "b"], "nested": {"k": None}}
    assert got.email == "a@example.org"
    assert got.webhook_url == "https://example.org/hook"
    assert got.max_attempts == 5
    assert got.attempts == 0
    assert got.progress == 0.0
    assert got.created_at == got.updated_at == clock.now
    assert got.created_at.tzinfo is not None and got.created_at.utcoffset() == timedelta(0)
    for absent in (
        "result_key",
        "result_content_type",
        "error_code",
        "error_message",
        "worker_id",
        "lease_expires_at",
        "started_at",
        "finished_at",
    ):
        assert getattr(got, absent) is None, absent


def test_minimal_job_has_defaults(store: JobStore) -> None:
    job = store.enqueue(NewJob(style="s", input_key="k"))
    got = store.get(job.id)
    assert got is not None
    assert got.crop is None and got.params == {} and got.email is None
    assert got.max_attempts == 3


def test_get_unknown_is_none(store: JobStore) -> None:
    assert store.get("nope") is None


def test_duplicate_id_is_refused(store: JobStore) -> None:
    store.enqueue(NewJob(style="s", input_key="k", id="same"))
    with pytest.raises(ValueError):
        store.enqueue(NewJob(style="s", input_key="k2", id="same"))


def test_returned_jobs_are_copies(store: JobStore) -> None:
    job = store.enqueue(NewJob(style="s", input_key="k", params={"a": [1]}))
    job.params["a"].append(2)
    job.status = JobStatus.FAILED
    got = store.get(job.id)
    assert got is not None
    assert got.params == {"a": [1]} and got.status is JobStatus.QUEUED


def test_timestamps_are_stored_in_utc(store: JobStore, clock: FakeClock) -> None:
    local = timezone(timedelta(hours=2))
    clock.now = clock.now.astimezone(local)
    job = store.enqueue(NewJob(style="s", input_key="k"))
    got = store.get(job.id)
    assert got is not None
    assert got.created_at == clock.now
    assert got.created_at.tzinfo == UTC


def test_claim_is_fifo(store: JobStore, clock: FakeClock) -> None:
    ids = [enqueue(store, clock) for _ in range(3)]
    clock.advance(1)
    first = store.claim("w1", lease_seconds=LEASE)
    assert [j.id for j in first] == ids[:1]
    job = first[0]
    assert job.status is JobStatus.RUNNING
    assert job.worker_id == "w1"
    assert job.attempts == 1
    assert job.started_at == job.updated_at == clock.now
    assert job.lease_expires_at == clock.now + timedelta(seconds=LEASE)
    assert store.get(job.id) == job
    assert claim_one(store) == ids[1]
    assert claim_one(store) == ids[2]
    assert store.claim("w1", lease_seconds=LEASE) == []


def test_claim_respects_style_filter(store: JobStore, clock: FakeClock) -> None:
    enqueue(store, clock, "monet")
    anime = enqueue(store, clock, "anime")
    assert claim_one(store, styles={"anime", "other"}) == anime
    assert store.claim("w1", lease_seconds=LEASE, styles=["anime"]) == []
    assert store.claim("w1", lease_seconds=LEASE, styles=[]) == []
    assert store.queued_count() == 1


def test_batch_claim_takes_one_style_oldest_first(store: JobStore, clock: FakeClock) -> None:
    x1 = enqueue(store, clock, "x")
    y1 = enqueue(store, clock, "y")
    x2 = enqueue(store, clock, "x")
    x3 = enqueue(store, clock, "x")
    y2 = enqueue(store, clock, "y")
    batch = store.claim("w1", lease_seconds=LEASE, limit=10)
    assert [j.id for j in batch] == [x1, x2, x3]
    assert [j.id for j in store.claim("w1", lease_seconds=LEASE, limit=10)] == [y1, y2]


def test_batch_claim_honours_limit(store: JobStore, clock: FakeClock) -> None:
    ids = [enqueue(store, clock) for _ in range(5)]
    assert [j.id for j in store.claim("w1", lease_seconds=LEASE, limit=2)] == ids[:2]
    assert store.claim("w1", lease_seconds=LEASE, limit=0) == []
    assert store.queued_count() == 3


def test_batch_claim_with_filter_uses_oldest_allowed_style(
    store: JobStore, clock: FakeClock
) -> None:
    enqueue(store, clock, "x")
    y1 = enqueue(store, clock, "y")
    z1 = enqueue(store, clock, "z")
    y2 = enqueue(store, clock, "y")
    batch = store.claim("w1", lease_seconds=LEASE, styles={"y", "z"}, limit=5)
    assert [j.id for j in batch] == [y1, y2]
    assert claim_one(store, styles={"y", "z"}) == z1


def test_heartbeat_renews_lease_and_records_progress(store: JobStore, clock: FakeClock) -> None:
    job_id = enqueue(store, clock)
    claim_one(store)
    clock.advance(LEASE - 5)
    assert store.heartbeat(job_id, "w1", lease_seconds=LEASE, progress=0.4)
    job = store.get(job_id)
    assert job is not None
    assert job.progress == pytest.approx(0.4)
    assert job.lease_expires_at == clock.now + timedelta(seconds=LEASE)
    # Past the first lease but inside the renewed one: nobody can take it.
    clock.advance(LEASE - 5)
    assert store.claim("w2", lease_seconds=LEASE) == []
    assert store.heartbeat(job_id, "w1", lease_seconds=LEASE)  # progress unchanged
    job = store.get(job_id)
    assert job is not None and job.progress == pytest.approx(0.4)
    assert job.status is JobStatus.RUNNING and job.worker_id == "w1"
    assert store.heartbeat(job_id, "w1", lease_seconds=LEASE, progress=7.0)
    job = store.get(job_id)
    assert job is not None and job.progress == 1.0


def test_worker_that_lost_its_lease_cannot_touch_the_job(store: JobStore, clock: FakeClock) -> None:
    job_id = enqueue(store, clock)
    claim_one(store, "w1")
    clock.advance(LEASE + 1)
    assert claim_one(store, "w2") == job_id
    assert not store.heartbeat(job_id, "w1", lease_seconds=LEASE, progress=0.9)
    assert not store.succeed(job_id, "w1", result_key="r", content_type="image/png")
    assert not store.fail(job_id, "w1", code="model_error", message="boom")
    assert not store.retry(job_id, "w1", code="model_error", message="boom")
    assert not store.release(job_id, "w1")
    job = store.get(job_id)
    assert job is not None
    assert job.status is JobStatus.RUNNING and job.worker_id == "w2" and job.attempts == 2
    assert job.progress == 0.0
    assert store.succeed(job_id, "w2", result_key="out.jpg", content_type="image/jpeg")


def test_succeed_records_result(store: JobStore, clock: FakeClock) -> None:
    job_id = enqueue(store, clock)
    claim_one(store)
    clock.advance(3)
    assert store.succeed(job_id, "w1", result_key="jobs/x/out.jpg", content_type="image/jpeg")
    job = store.get(job_id)
    assert job is not None
    assert job.status is JobStatus.SUCCEEDED
    assert (job.result_key, job.result_content_type) == ("jobs/x/out.jpg", "image/jpeg")
    assert job.progress == 1.0 and job.finished_at == clock.now and job.lease_expires_at is None
    assert (job.result_width, job.result_height) == (None, None)
    # Finished is final for the worker too.
    assert not store.succeed(job_id, "w1", result_key="again", content_type="image/png")
    assert not store.fail(job_id, "w1", code="x", message="y")


def test_succeed_records_the_result_size(store: JobStore, clock: FakeClock) -> None:
    job_id = enqueue(store, clock)
    assert store.get(job_id).result_width is None  # type: ignore[union-attr]
    claim_one(store)
    assert store.succeed(
        job_id, "w1", result_key="r", content_type="image/png", result_size=(2049, 1365)
    )
    job = store.get(job_id)
    assert job is not None and (job.result_width, job.result_height) == (2049, 1365)


def test_fail_is_final(store: JobStore, clock: FakeClock) -> None:
    job_id = enqueue(store, clock)
    claim_one(store)
    assert store.fail(job_id, "w1", code="no_face_found", message="no face")
    job = store.get(job_id)
    assert job is not None
    assert job.status is JobStatus.FAILED
    assert (job.error_code, job.error_message) == ("no_face_found", "no face")
    assert job.finished_at == clock.now
    assert store.claim("w1", lease_seconds=LEASE) == []


def test_expired_lease_requeues_then_fails_with_last_error(
    store: JobStore, clock: FakeClock
) -> None:
    job_id = enqueue(store, clock, max_attempts=2)
    claim_one(store, "w1")
    clock.advance(LEASE + 1)
    # A claim that takes nothing still returns expired jobs to the queue.
    assert store.claim("w2", lease_seconds=LEASE, styles={"other"}) == []
    job = store.get(job_id)
    assert job is not None
    assert job.status is JobStatus.QUEUED
    assert job.worker_id is None and job.lease_expires_at is None and job.attempts == 1
    assert job.error_code == LEASE_EXPIRED and job.error_message is not None
    assert "w1" in job.error_message
    assert store.position(job_id) == 0

    assert claim_one(store, "w2") == job_id
    clock.advance(LEASE + 1)
    assert store.claim("w3", lease_seconds=LEASE) == []
    job = store.get(job_id)
    assert job is not None
    assert job.status is JobStatus.FAILED
    assert job.attempts == 2
    assert job.error_code == LEASE_EXPIRED and "w2" in (job.error_message or "")
    assert job.finished_at == clock.now
    assert job.worker_id is None


def test_retry_requeues_until_attempts_are_spent(store: JobStore, clock: FakeClock) -> None:
    job_id = enqueue(store, clock, max_attempts=2)
    claim_one(store, "w1")
    assert store.retry(job_id, "w1", code="model_error", message="cuda oom")
    job = store.get(job_id)
    assert job is not None
    assert job.status is JobStatus.QUEUED and job.worker_id is None and job.attempts == 1
    assert (job.error_code, job.error_message) == ("model_error", "cuda oom")
    assert job.finished_at is None

    claim_one(store, "w2")
    assert store.retry(job_id, "w2", code="model_error", message="cuda oom again")
    job = store.get(job_id)
    assert job is not None
    assert job.status is JobStatus.FAILED and job.attempts == 2
    assert job.error_message == "cuda oom again" and job.finished_at == clock.now


def test_success_after_errors_clears_them(store: JobStore, clock: FakeClock) -> None:
    job_id = enqueue(store, clock)
    claim_one(store)
    store.retry(job_id, "w1", code="model_error", message="boom")
    claim_one(store)
    assert store.succeed(job_id, "w1", result_key="r", content_type="image/png")
    job = store.get(job_id)
    assert job is not None and job.error_code is None and job.error_message is None


def test_release_gives_the_attempt_back(store: JobStore, clock: FakeClock) -> None:
    first = enqueue(store, clock)
    enqueue(store, clock)
    claim_one(store, "w1")
    clock.advance(1)
    assert store.release(first, "w1")
    job = store.get(first)
    assert job is not None
    assert job.status is JobStatus.QUEUED
    assert job.attempts == 0 and job.worker_id is None and job.lease_expires_at is None
    # It keeps its place at the head of the queue.
    assert store.position(first) == 0
    claimed = store.claim("w2", lease_seconds=LEASE)
    assert [j.id for j in claimed] == [first] and claimed[0].attempts == 1
    assert not store.release(first, "w1")


def test_cancel_queued(store: JobStore, clock: FakeClock) -> None:
    job_id = enqueue(store, clock)
    clock.advance(1)
    job = store.cancel(job_id)
    assert job is not None
    assert job.status is JobStatus.CANCELED and job.finished_at == clock.now
    assert store.get(job_id) == job
    assert store.claim("w1", lease_seconds=LEASE) == []
    assert store.position(job_id) is None


def test_cancel_running_stops_the_worker(store: JobStore, clock: FakeClock) -> None:
    job_id = enqueue(store, clock)
    claim_one(store)
    job = store.cancel(job_id)
    assert job is not None and job.status is JobStatus.CANCELED
    assert job.lease_expires_at is None
    assert not store.heartbeat(job_id, "w1", lease_seconds=LEASE)
    assert not store.succeed(job_id, "w1", result_key="r", content_type="image/png")
    clock.advance(LEASE + 1)
    store.claim("w2", lease_seconds=LEASE)
    job = store.get(job_id)
    assert job is not None and job.status is JobStatus.CANCELED


def test_cancel_finished_returns_it_unchanged(store: JobStore, clock: FakeClock) -> None:
    job_id = enqueue(store, clock)
    claim_one(store)
    store.succeed(job_id, "w1", result_key="r", content_type="image/png")
    before = store.get(job_id)
    clock.advance(5)
    assert store.cancel(job_id) == before
    canceled = enqueue(store, clock)
    first = store.cancel(canceled)
    clock.advance(5)
    assert store.cancel(canceled) == first


def test_cancel_unknown_is_none(store: JobStore) -> None:
    assert store.cancel("nope") is None


def test_delete(store: JobStore, clock: FakeClock) -> None:
    job_id = enqueue(store, clock)
    claim_one(store)
    assert store.delete(job_id)
    assert store.get(job_id) is None
    assert not store.delete(job_id)
    assert not store.heartbeat(job_id, "w1", lease_seconds=LEASE)
    assert not store.succeed(job_id, "w1", result_key="r", content_type="image/png")


def test_position(store: JobStore, clock: FakeClock) -> None:
    a = enqueue(store, clock, "x")
    b = enqueue(store, clock, "y")
    c = enqueue(store, clock, "x")
    assert [store.position(i) for i in (a, b, c)] == [0, 1, 2]
    claim_one(store)
    assert [store.position(i) for i in (a, b, c)] == [None, 0, 1]
    store.cancel(b)
    assert store.position(c) == 0
    assert store.position("nope") is None


def test_queued_ahead_counts_per_style(store: JobStore, clock: FakeClock) -> None:
    a = enqueue(store, clock, "x")
    b = enqueue(store, clock, "y")
    c = enqueue(store, clock, "x")
    d = enqueue(store, clock, "z")
    assert store.queued_ahead(a) == {}
    assert store.queued_ahead(d) == {"x": 2, "y": 1}
    claim_one(store)  # a
    store.cancel(b)
    assert store.queued_ahead(d) == {"x": 1}
    assert store.queued_ahead(c) == {}
    assert store.queued_ahead(a) is None  # running
    assert store.queued_ahead("nope") is None
    assert store.position(d) == sum(store.queued_ahead(d).values())  # type: ignore[union-attr]


def test_get_many_and_queued_ahead_many_match_the_single_reads(
    store: JobStore, clock: FakeClock
) -> None:
    a = enqueue(store, clock, "x")
    b = enqueue(store, clock, "y")
    c = enqueue(store, clock, "x")
    d = enqueue(store, clock, "z")
    assert store.get_many([]) == {} and store.queued_ahead_many([]) == {}
    found = store.get_many([a, c, "nope", c])
    assert set(found) == {a, c} and found[a] == store.get(a)
    claim_one(store)  # a
    store.cancel(b)
    ahead = store.queued_ahead_many([a, b, c, d, "nope"])
    assert ahead == {c: {}, d: {"x": 1}}
    for job_id in (a, b, c, d, "nope"):
        assert ahead.get(job_id) == store.queued_ahead(job_id)
    many = [enqueue(store, clock, "s") for _ in range(1200)]  # more than one IN (…) slice
    assert set(store.get_many(many)) == set(many)
    assert store.queued_ahead_many([many[-1]]) == {many[-1]: {"x": 1, "z": 1, "s": 1199}}


def test_running_lists_running_jobs_oldest_start_first(store: JobStore, clock: FakeClock) -> None:
    assert store.running() == []
    a = enqueue(store, clock, "x")
    b = enqueue(store, clock, "y")
    enqueue(store, clock, "z")
    claim_one(store, "w1")
    clock.advance(5)
    claim_one(store, "w2")
    store.heartbeat(b, "w2", lease_seconds=LEASE, progress=0.25)
    running = store.running()
    assert [j.id for j in running] == [a, b]
    assert running[1].progress == 0.25 and running[1].started_at == clock.now
    store.succeed(a, "w1", result_key="r", content_type="image/png")
    assert [j.id for j in store.running()] == [b]


def test_position_orders_same_instant_by_id(store: JobStore) -> None:
    # The fake clock does not move: ties fall back to the id, like the claim.
    ids = [store.enqueue(NewJob(style="s", input_key="k")).id for _ in range(4)]
    positions = {i: store.position(i) for i in ids}
    assert sorted(p for p in positions.values() if p is not None) == [0, 1, 2, 3]
    (head,) = [i for i, p in positions.items() if p == 0]
    assert claim_one(store) == head


def test_counts_and_queued_count(store: JobStore, clock: FakeClock) -> None:
    assert store.counts() == {}
    assert store.queued_count() == 0
    enqueue(store, clock, "x")
    enqueue(store, clock, "x")
    y = enqueue(store, clock, "y")
    done = enqueue(store, clock, "z")
    store.cancel(y)
    claim_one(store, styles={"z"})
    store.succeed(done, "w1", result_key="r", content_type="image/png")
    claim_one(store)
    assert store.counts() == {
        ("x", JobStatus.QUEUED): 1,
        ("x", JobStatus.RUNNING): 1,
        ("y", JobStatus.CANCELED): 1,
        ("z", JobStatus.SUCCEEDED): 1,
    }
    assert store.queued_count() == 1


def run_job(store: JobStore, clock: FakeClock, style: str, seconds: float, worker: str) -> str:
    job_id = enqueue(store, clock, style)
    assert claim_one(store, worker, styles={style}) == job_id
    clock.advance(seconds)
    assert store.succeed(
        job_id, worker, result_key="r", content_type="image/png", run_seconds=seconds
    )
    return job_id


def test_run_stats_average_successful_runs_per_style(store: JobStore, clock: FakeClock) -> None:
    assert store.run_stats() == {}
    run_job(store, clock, "x", 2, "w1")
    run_job(store, clock, "x", 4, "w1")
    run_job(store, clock, "y", 12, "w1")
    failed = enqueue(store, clock, "x")
    claim_one(store)
    clock.advance(100)
    store.fail(failed, "w1", code="e", message="m")
    # A success without a run time (an old caller) changes nothing either.
    plain = enqueue(store, clock, "x")
    claim_one(store)
    assert store.succeed(plain, "w1", result_key="r", content_type="image/png")
    stats = store.run_stats()
    assert stats.keys() == {"x", "y"}
    assert stats["x"] == RunStats("x", 2, pytest.approx(3.0))  # type: ignore[arg-type]
    assert stats["y"] == RunStats("y", 1, pytest.approx(12.0))  # type: ignore[arg-type]


def test_run_stats_follow_recent_runs_after_the_warm_up(store: JobStore, clock: FakeClock) -> None:
    expected = 0.0
    for n, seconds in enumerate([10.0] * WARMUP + [20.0] * 3):
        run_job(store, clock, "x", seconds, "w1")
        expected = next_mean(n, expected, seconds)
    assert store.run_stats()["x"].runs == WARMUP + 3
    assert store.run_stats()["x"].mean_seconds == pytest.approx(expected)
    # Weighted: three slow runs after five fast ones move the mean by 1 - (1 - WEIGHT)³.
    assert expected == pytest.approx(10 + 10 * (1 - (1 - WEIGHT) ** 3))


def test_run_stats_outlive_the_jobs(store: JobStore, clock: FakeClock) -> None:
    ids = [run_job(store, clock, "x", 6, "w1") for _ in range(2)]
    for job_id in ids:
        assert store.delete(job_id)
    assert store.run_stats() == {"x": RunStats("x", 2, pytest.approx(6.0))}  # type: ignore[arg-type]


def test_a_lost_success_records_no_run(store: JobStore, clock: FakeClock) -> None:
    job_id = enqueue(store, clock, "x")
    claim_one(store, "w1")
    store.cancel(job_id)
    assert not store.succeed(job_id, "w1", result_key="r", content_type="image/png", run_seconds=3)
    assert not store.succeed(job_id, "w2", result_key="r", content_type="image/png", run_seconds=3)
    assert store.run_stats() == {}


def test_active_workers(store: JobStore, clock: FakeClock) -> None:
    assert store.active_workers() == 0
    run_job(store, clock, "x", 1, "old")
    clock.advance(1000)
    run_job(store, clock, "x", 1, "recent")
    clock.advance(10)
    enqueue(store, clock, "x")
    claim_one(store, "busy")
    enqueue(store, clock, "x")
    claim_one(store, "busy")
    assert store.active_workers(within_seconds=300) == 2
    assert store.active_workers(within_seconds=5) == 1
    assert store.active_workers(within_seconds=5000) == 3


def test_ping_and_close(store: JobStore) -> None:
    store.ping()


def test_naive_clock_is_refused(store: JobStore, clock: FakeClock) -> None:
    clock.now = clock.now.replace(tzinfo=None)
    with pytest.raises(ValueError):
        store.enqueue(NewJob(style="s", input_key="k"))


def test_concurrent_claims_from_threads_take_each_job_once(
    store: JobStore, clock: FakeClock
) -> None:
    ids = {enqueue(store, clock, style) for style in ["a", "b", "c", "d"] * 15}
    claimed: list[str] = []
    lock = threading.Lock()

    def work(worker: str) -> None:
        while True:
            jobs = store.claim(worker, lease_seconds=LEASE, limit=3)
            if not jobs:
                return
            for job in jobs:
                assert store.succeed(job.id, worker, result_key="r", content_type="image/png")
            with lock:
                claimed.extend(j.id for j in jobs)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(ids)
    assert store.counts() == {(s, JobStatus.SUCCEEDED): 15 for s in "abcd"}
