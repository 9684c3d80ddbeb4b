"""Delivery, retention and reconcile over in-memory stores, a test clock, fake senders."""

from __future__ import annotations

from datetime import datetime

import pytest

from pixserve.domain import Job, JobStatus, NewJob
from pixserve.notify import LinkSigner, MemoryMailer, MemoryWebhookSender
from pixserve.queue import MemoryJobStore, MemoryOutbox
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
def mem_jobs(clock: FakeClock) -> MemoryJobStore:
    return MemoryJobStore(clock=clock)


@pytest.fixture
def outbox(clock: FakeClock) -> MemoryOutbox:
    return MemoryOutbox(clock=clock)


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
    mem_jobs, outbox, blobs, links, public_settings, mailer, hooks, clock
) -> DeliveryService:
    return DeliveryService(
        mem_jobs,
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
def retention(mem_jobs, blobs, outbox, settings, clock) -> RetentionService:  # type: ignore[no-untyped-def]
    return RetentionService(mem_jobs, blobs, outbox, settings, clock=clock)


def finished_job(
    jobs: MemoryJobStore,
    blobs: MemoryBlobStore,
    clock: FakeClock,
    status: JobStatus = JobStatus.SUCCEEDED,
    **fields: object,
) -> Job:
    """A job run to ``status`` with its blobs stored as a worker would have."""
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
        jobs.attach_preview(job.id, "w1", preview_key=f"jobs/{job.id}/preview-1-w1.jpg")
        blobs.put(f"jobs/{job.id}/result-1-w1.jpg", b"\xff\xd8result")
        jobs.succeed(
            job.id, "w1", result_key=f"jobs/{job.id}/result-1-w1.jpg", content_type="image/jpeg"
        )
    elif status is JobStatus.FAILED:
        jobs.fail(job.id, "w1", code="no_face_found", message="No face was found.")
    got = jobs.get(job.id)
    assert got is not None
    return got


def at(clock: FakeClock) -> datetime:
    return clock.now
