"""The ``Outbox`` contract, on ``SqlOutbox`` (SQLite here, PostgreSQL in
``tests/integration/queue``)."""

from __future__ import annotations

from datetime import timedelta

from pixserve.domain import Channel, DeliveryStatus, JobEvent, NewDelivery
from pixserve.queue import Outbox
from tests.support.clock import FakeClock


def new(job_id: str = "j1", event: JobEvent = JobEvent.SUCCEEDED, **kw: object) -> NewDelivery:
    return NewDelivery(
        job_id=job_id,
        channel=Channel.WEBHOOK,
        event=event,
        target="https://example.org/hook",
        payload={"body": '{"a":1}'},
        max_attempts=3,
        **kw,  # type: ignore[arg-type]
    )


def test_is_an_outbox(outbox: Outbox) -> None:
    assert isinstance(outbox, Outbox)


def test_add_once_per_job_channel_event(outbox: Outbox, clock: FakeClock) -> None:
    first = outbox.add(new())
    assert first is not None
    assert first.status is DeliveryStatus.PENDING and first.attempts == 0
    assert first.next_attempt_at == clock.now and first.payload == {"body": '{"a":1}'}
    assert outbox.add(new()) is None
    clock.advance(1)
    assert outbox.add(new(event=JobEvent.RUNNING)) is not None
    assert [d.event for d in outbox.for_job("j1")] == [JobEvent.SUCCEEDED, JobEvent.RUNNING]


def test_claim_send_and_retry(outbox: Outbox, clock: FakeClock) -> None:
    added = outbox.add(new())
    assert added is not None
    (claimed,) = outbox.claim_due("w1", lease_seconds=60)
    assert claimed.id == added.id
    assert claimed.status is DeliveryStatus.SENDING and claimed.attempts == 1
    assert outbox.claim_due("w2") == []  # leased
    retry_at = clock.now + timedelta(seconds=30)
    assert outbox.mark_failed(added.id, error="HTTP 500", retry_at=retry_at)
    assert outbox.claim_due("w1") == []  # not due yet
    clock.advance(31)
    (again,) = outbox.claim_due("w1")
    assert again.attempts == 2 and again.last_error == "HTTP 500"
    assert outbox.mark_sent(added.id)
    assert not outbox.mark_sent(added.id)  # only a sending delivery can be marked
    (done,) = outbox.for_job("j1")
    assert done.status is DeliveryStatus.SENT and done.sent_at == clock.now
    assert done.last_error is None


def test_failed_for_good_and_a_dead_senders_lease(outbox: Outbox, clock: FakeClock) -> None:
    a = outbox.add(new("a"))
    clock.advance(1)
    b = outbox.add(new("b"))
    assert a is not None and b is not None
    claimed = outbox.claim_due("w1", lease_seconds=10, limit=5)
    assert [d.job_id for d in claimed] == ["a", "b"]
    assert outbox.mark_failed(a.id, error="gone", retry_at=None)
    clock.advance(11)  # w1 died while sending b
    (retaken,) = outbox.claim_due("w2")
    assert retaken.id == b.id and retaken.attempts == 2
    (failed,) = outbox.for_job("a")
    assert failed.status is DeliveryStatus.FAILED and failed.last_error == "gone"


def test_delete_for_job(outbox: Outbox) -> None:
    outbox.add(new("a"))
    outbox.add(new("a", event=JobEvent.RUNNING))
    outbox.add(new("b"))
    assert outbox.delete_for_job("a") == 2
    assert outbox.for_job("a") == []
    assert len(outbox.for_job("b")) == 1
