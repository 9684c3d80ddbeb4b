"""Delivery, retention and reconcile over one SQLite job database (jobs and outbox), a test
clock, in-memory blobs and fake senders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from pixserve.domain import Job, JobStatus, NewJob
from pixserve.notify import LinkSigner, MemoryMailer, MemoryWebhookSender
from pixserve.queue import SqlJobStore, SqlOutbox
from pixserve.services.delivery import DeliveryService
from pixserve.services.links import ResultLinks
from pixserve.services.retention import RetentionService
from pixserve.storage import MemoryBlobStore
from tests.support.clock import FakeClock
from tests.support.fakes import FakeCatalog, FakeStyle

SECRET = b"unit-test-secret-key-0123456789"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clocked_jobs(clock: FakeClock, sqlite_url: str) -> Iterator[SqlJobStore]:
    """The job store on the test clock (``jobs`` runs on the real one)."""
    store = SqlJobStore(sqlite_url, clock=clock)
    yield store
    store.close()


@pytest.fixture
def outbox(clock: FakeClock, sqlite_url: str) -> Iterator[SqlOutbox]:
    """The outbox in the same database as :func:`clocked_jobs`."""
    box = SqlOutbox(sqlite_url, clock=clock)
    yield box
    box.close()


@pytest.fixture
def mailer() -> MemoryMailer:
    return MemoryMailer()


@pytest.fixture
def hooks() -> MemoryWebhookSender:
    return MemoryWebhookSender()


@pytest.fixture
def public_settings(settings):  # type: ignore[no-untyped-def]
    return settings.model_copy(update={"public_url": "https://pix.example"})


@pytest.fixture
def links(public_settings, blobs, clock) -> ResultLinks:  # type: ignore[no-untyped-def]
    signer = LinkSigner(SECRET, clock=lambda: clock.now.timestamp())
    return ResultLinks(signer, public_settings, blobs)


@pytest.fixture
def deliveries(  # type: ignore[no-untyped-def]
    clocked_jobs, outbox, blobs, links, public_settings, mailer, hooks, clock
) -> DeliveryService:
    return DeliveryService(
        clocked_jobs,
        outbox,
        blobs,
        FakeCatalog(FakeStyle("pencil", title="Pencil")),
        links,
        public_settings,
        secret=SECRET,
        mailer=mailer,
        webhooks=hooks,
        clock=clock,
    )


@pytest.fixture
def retention(clocked_jobs, blobs, outbox, settings, clock) -> RetentionService:  # type: ignore[no-untyped-def]
    return RetentionService(clocked_jobs, blobs, outbox, settings, clock=clock)


def finished_job(
    jobs: SqlJobStore,
    blobs: MemoryBlobStore,
    clock: FakeClock,
    status: JobStatus = JobStatus.SUCCEEDED,
    **fields: object,
) -> Job:
    """A job run to ``status`` with its blobs stored as a worker would have, its news not
    queued (as by a worker without a delivery service)."""
    clock.advance(1)
    style = f"pencil{clock.now.timestamp():.0f}"
    new = NewJob(style=style, input_key="placeholder", **fields)  # type: ignore[arg-type]
    new = NewJob(
        id=new.id,
        style=style,
        input_key=f"jobs/{new.id}/input.jpg",
        **fields,  # type: ignore[arg-type]
    )
    blobs.put(new.input_key, b"original")
    jobs.enqueue(new)
    (job,) = jobs.claim("w1", lease_seconds=30, styles={style})
    if status is JobStatus.SUCCEEDED:
        blobs.put(f"jobs/{job.id}/preview-1-w1.jpg", b"\xff\xd8preview")
        blobs.put(f"jobs/{job.id}/result-1-w1.jpg", b"\xff\xd8result")
        jobs.succeed(
            job.id,
            "w1",
            result_key=f"jobs/{job.id}/result-1-w1.jpg",
            content_type="image/jpeg",
            preview_key=f"jobs/{job.id}/preview-1-w1.jpg",
        )
    elif status is JobStatus.FAILED:
        jobs.fail(job.id, "w1", code="no_face_found", message="No face was found.")
    got = jobs.get(job.id)
    assert got is not None
    return got


def at(clock: FakeClock) -> datetime:
    return clock.now
