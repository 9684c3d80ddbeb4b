"""A job's end is one write: status, result, ``news`` (its outbox rows) and ``notified_at``
together or not at all; on SQLite here and on PostgreSQL in ``tests/integration/queue``."""

from __future__ import annotations

from pixserve.domain import Channel, DeliveryStatus, JobEvent, JobStatus, NewDelivery, NewJob
from pixserve.queue import JobStore, Outbox
from tests.support.clock import FakeClock

LEASE = 30.0
DONE = {"result_key": "r.jpg", "content_type": "image/jpeg"}


def running(store: JobStore, clock: FakeClock, max_attempts: int = 3) -> str:
    clock.advance(1)
    style = f"s{clock.now.timestamp():.0f}"
    new = NewJob(style=style, input_key="k", email="a@b.co", max_attempts=max_attempts)
    job = store.enqueue(new)
    assert [j.id for j in store.claim("w1", lease_seconds=LEASE, styles={style})] == [job.id]
    return job.id


def news(job_id: str, event: JobEvent) -> list[NewDelivery]:
    return [
        NewDelivery(job_id=job_id, channel=Channel.EMAIL, event=event, target="a@b.co"),
        NewDelivery(
            job_id=job_id,
            channel=Channel.WEBHOOK,
            event=event,
            target="https://example.org/hook",
            payload={"body": '{"type":"x"}'},
            max_attempts=3,
        ),
    ]


def queued(outbox: Outbox, job_id: str) -> list[tuple[str, str]]:
    found = outbox.for_job(job_id)
    assert all(d.status is DeliveryStatus.PENDING and d.attempts == 0 for d in found)
    return sorted((d.channel.value, d.event.value) for d in found)


def test_a_success_queues_its_news_and_returns_the_row(
    store: JobStore, outbox: Outbox, clock: FakeClock
) -> None:
    job_id = running(store, clock)
    done = store.succeed(job_id, "w1", **DONE, news=news(job_id, JobEvent.SUCCEEDED))
    assert done is not None and done == store.get(job_id)
    assert (done.status, done.result_key, done.notified_at) == (
        JobStatus.SUCCEEDED,
        "r.jpg",
        clock.now,
    )
    assert queued(outbox, job_id) == [("email", "job.succeeded"), ("webhook", "job.succeeded")]
    (hook,) = [d for d in outbox.for_job(job_id) if d.channel is Channel.WEBHOOK]
    assert hook.payload == {"body": '{"type":"x"}'} and hook.max_attempts == 3
    assert store.find_finished(statuses={JobStatus.SUCCEEDED}, unnotified=True) == []


def test_a_lost_finish_writes_nothing(store: JobStore, outbox: Outbox, clock: FakeClock) -> None:
    job_id = running(store, clock)
    assert store.succeed(job_id, "w2", **DONE, news=news(job_id, JobEvent.SUCCEEDED)) is None
    assert store.fail(job_id, "w2", code="x", message="x", news=[]) is None
    assert store.retry(job_id, "w2", code="x", message="x", news=[]) is None
    job = store.get(job_id)
    assert job is not None and job.status is JobStatus.RUNNING and job.notified_at is None
    assert outbox.for_job(job_id) == []
    assert store.job_metrics().errors == {}


def test_without_news_the_sweep_queues_them_once(
    store: JobStore, outbox: Outbox, clock: FakeClock
) -> None:
    job_id = running(store, clock)
    done = store.succeed(job_id, "w1", **DONE)
    assert done is not None and done.notified_at is None
    found = store.find_finished(statuses={JobStatus.SUCCEEDED}, unnotified=True)
    assert [j.id for j in found] == [job_id]
    assert store.mark_notified(job_id, news(job_id, JobEvent.SUCCEEDED))
    assert not store.mark_notified(job_id, news(job_id, JobEvent.SUCCEEDED))
    assert len(queued(outbox, job_id)) == 2
    assert store.get(job_id).notified_at == clock.now  # type: ignore[union-attr]


def test_no_news_to_send_is_still_notified(
    store: JobStore, outbox: Outbox, clock: FakeClock
) -> None:
    job_id = running(store, clock)
    done = store.fail(job_id, "w1", code="bad_input", message="no", news=[])
    assert done is not None and done.notified_at == clock.now
    assert outbox.for_job(job_id) == []


def test_a_failure_queues_its_news(store: JobStore, outbox: Outbox, clock: FakeClock) -> None:
    job_id = running(store, clock)
    done = store.fail(
        job_id, "w1", code="bad_input", message="no", news=news(job_id, JobEvent.FAILED)
    )
    assert done is not None and done == store.get(job_id)
    assert (done.status, done.error_code, done.notified_at) == (
        JobStatus.FAILED,
        "bad_input",
        clock.now,
    )
    assert queued(outbox, job_id) == [("email", "job.failed"), ("webhook", "job.failed")]


def test_only_the_retry_that_ends_the_job_announces_it(
    store: JobStore, outbox: Outbox, clock: FakeClock
) -> None:
    job_id = running(store, clock, max_attempts=2)
    again = store.retry(
        job_id, "w1", code="boom", message="boom", news=news(job_id, JobEvent.FAILED)
    )
    assert again is not None and again.status is JobStatus.QUEUED
    assert again.notified_at is None and again.finished_at is None and again.worker_id is None
    assert outbox.for_job(job_id) == []
    assert [j.id for j in store.claim("w1", lease_seconds=LEASE)] == [job_id]
    clock.advance(1)
    done = store.retry(
        job_id, "w1", code="boom", message="boom", news=news(job_id, JobEvent.FAILED)
    )
    assert done is not None and done == store.get(job_id)
    assert (done.status, done.finished_at, done.notified_at, done.worker_id) == (
        JobStatus.FAILED,
        clock.now,
        clock.now,
        "w1",
    )
    assert queued(outbox, job_id) == [("email", "job.failed"), ("webhook", "job.failed")]
