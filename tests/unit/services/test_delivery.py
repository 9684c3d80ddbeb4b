"""Queueing and sending e-mails and webhooks: once, retried with backoff, never failing a job."""

from __future__ import annotations

import json

from pixserve.domain import DeliveryStatus, JobStatus
from pixserve.notify.webhooks import job_webhook_secret, verify
from pixserve.services.delivery import backoff_seconds
from tests.support.fakes import FakeCatalog, FakeStyle
from tests.unit.services.conftest import SECRET, finished_job


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff_seconds(n, 5) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert backoff_seconds(30, 5) == 3600


def test_one_email_for_a_finished_job_however_often_it_is_queued(
    deliveries, clocked_jobs, blobs, clock, mailer
) -> None:
    job = finished_job(clocked_jobs, blobs, clock, email="ana@example.org", lang="es")
    deliveries.job_finished(job)
    deliveries.job_finished(clocked_jobs.get(job.id))  # marked notified: nothing new
    assert deliveries.sweep() == 0
    assert deliveries.send_due("w") == 1
    assert deliveries.send_due("w") == 0
    (msg,) = mailer.sent
    assert msg["To"] == "ana@example.org" and "está lista" in msg["Subject"]
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert f"https://pix.example/v1/jobs/{job.id}/result?expires=" in text
    assert f"https://pix.example/v1/jobs/{job.id}/preview?expires=" in text
    (d,) = deliveries.outbox.for_job(job.id)
    assert (d.status, d.attempts) == (DeliveryStatus.SENT, 1)


def test_the_sweep_queues_what_a_dead_worker_did_not(
    deliveries, clocked_jobs, blobs, clock
) -> None:
    job = finished_job(clocked_jobs, blobs, clock, JobStatus.FAILED, email="a@b.co")
    finished_job(clocked_jobs, blobs, clock)  # no e-mail, no webhook: nothing to send
    assert deliveries.sweep() == 1
    assert [d.event.value for d in deliveries.outbox.for_job(job.id)] == ["job.failed"]
    assert deliveries.sweep() == 0


def test_a_failing_mailer_is_retried_then_recorded_and_the_job_is_untouched(
    deliveries, clocked_jobs, blobs, clock, mailer, settings
) -> None:
    job = finished_job(clocked_jobs, blobs, clock, email="ana@example.org")
    deliveries.job_finished(job)
    mailer.fail_next = 100
    base = settings.notify_backoff_seconds
    for attempt in range(1, settings.notify_max_attempts + 1):
        assert deliveries.send_due("w") == 1
        (d,) = deliveries.outbox.for_job(job.id)
        assert d.attempts == attempt and "told to fail" in (d.last_error or "")
        if attempt < settings.notify_max_attempts:
            assert d.status is DeliveryStatus.PENDING
            assert deliveries.send_due("w") == 0  # not due yet
            clock.advance(backoff_seconds(attempt, base))
    assert d.status is DeliveryStatus.FAILED
    assert mailer.sent == []
    assert clocked_jobs.get(job.id).status is JobStatus.SUCCEEDED


def test_webhooks_are_signed_and_retried_with_the_same_id_and_body(
    deliveries, clocked_jobs, blobs, clock, hooks
) -> None:
    job = finished_job(clocked_jobs, blobs, clock, webhook_url="https://hooks.example/x")
    deliveries.job_started(job)
    deliveries.job_finished(job)
    hooks.fail_next = 3  # job.running's only try, then two of job.succeeded's
    deliveries.send_due("w")
    for _ in range(2):
        clock.advance(3600)
        deliveries.send_due("w")
    kinds = sorted(json.loads(body)["type"] for _, body, _ in hooks.calls)
    assert kinds == ["job.running", "job.succeeded", "job.succeeded", "job.succeeded"]
    secret = job_webhook_secret(SECRET, job.id)
    for _, body, headers in hooks.calls:
        assert verify(secret, headers, body, now=int(headers["webhook-timestamp"]))
    terminal = [(b, h) for _, b, h in hooks.calls if json.loads(b)["type"] == "job.succeeded"]
    assert len({h["webhook-id"] for _, h in terminal}) == 1
    assert len({b for b, _ in terminal}) == 1
    event = json.loads(terminal[-1][0])
    assert event["data"]["result_url"].startswith(f"https://pix.example/v1/jobs/{job.id}/result")
    states = {d.event.value: d for d in deliveries.outbox.for_job(job.id)}
    assert states["job.running"].status is DeliveryStatus.FAILED  # one try only
    assert states["job.succeeded"].status is DeliveryStatus.SENT
    assert states["job.succeeded"].attempts == 3


def test_a_deleted_job_drops_its_email(deliveries, clocked_jobs, blobs, clock, mailer) -> None:
    job = finished_job(clocked_jobs, blobs, clock, email="a@b.co")
    deliveries.job_finished(job)
    clocked_jobs.delete(job.id)
    deliveries.send_due("w")
    (d,) = deliveries.outbox.for_job(job.id)
    assert d.status is DeliveryStatus.FAILED and d.last_error == "the job was deleted"
    assert mailer.sent == []


def test_a_failure_email_gives_the_reason_in_the_jobs_language(
    deliveries, clocked_jobs, blobs, clock, mailer
) -> None:
    # The job records the English message; the e-mail translates from the error code.
    job = finished_job(clocked_jobs, blobs, clock, JobStatus.FAILED, email="a@b.co", lang="es")
    deliveries.job_finished(job)
    assert deliveries.send_due("w") == 1
    (msg,) = mailer.sent
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "Motivo: No se ha encontrado ninguna cara en la imagen" in text
    assert "No face" not in text


def test_the_email_names_the_style_in_the_jobs_language(
    deliveries, clocked_jobs, blobs, clock, mailer
) -> None:
    job = finished_job(clocked_jobs, blobs, clock, email="ana@example.org", lang="es")
    deliveries.catalog = FakeCatalog(FakeStyle(job.style, title="Pencil", titles={"es": "Lápiz"}))
    deliveries.job_finished(job)
    assert deliveries.send_due("w") == 1
    (msg,) = mailer.sent
    assert "Lápiz" in msg["Subject"] and "Pencil" not in msg["Subject"]
    assert "Lápiz" in msg.get_body(preferencelist=("plain",)).get_content()
