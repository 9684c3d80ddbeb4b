"""Retention: originals at once, failed jobs' images at once, results after the TTL."""

from __future__ import annotations

from datetime import timedelta

from pixserve.domain import JobStatus
from pixserve.services.retention import RetentionService
from tests.unit.services.conftest import finished_job


def test_job_finished_deletes_the_original_only(retention, clocked_jobs, blobs, clock) -> None:
    job = finished_job(clocked_jobs, blobs, clock)
    assert retention.job_finished(job)
    assert sorted(blobs.keys(f"jobs/{job.id}/")) == [
        f"jobs/{job.id}/preview-1-w1.jpg",
        f"jobs/{job.id}/result-1-w1.jpg",
    ]
    assert clocked_jobs.get(job.id).input_deleted_at == clock.now
    assert not retention.job_finished(clocked_jobs.get(job.id))


def test_a_failed_jobs_images_go_at_once(retention, clocked_jobs, blobs, clock) -> None:
    job = finished_job(clocked_jobs, blobs, clock, JobStatus.FAILED)
    report = retention.run_once()
    assert report.failed == 1
    assert list(blobs.keys(f"jobs/{job.id}/")) == []


def test_results_expire_after_the_ttl_and_records_later(
    retention, clocked_jobs, blobs, clock, outbox, settings
) -> None:
    job = finished_job(clocked_jobs, blobs, clock, email="a@b.co")
    clock.advance(settings.result_ttl_hours * 3600 - 10)
    report = retention.run_once()
    assert (report.originals, report.expired) == (1, 0)
    assert len(list(blobs.keys(f"jobs/{job.id}/"))) == 2
    clock.advance(20)
    assert retention.run_once().expired == 1
    assert list(blobs.keys(f"jobs/{job.id}/")) == []
    expired = clocked_jobs.get(job.id)
    assert expired.status is JobStatus.EXPIRED and expired.finished_at == job.finished_at
    assert retention.run_once().total == 0
    clock.advance(settings.record_ttl_hours * 3600)
    assert retention.run_once().records == 1
    assert clocked_jobs.get(job.id) is None


def test_originals_can_be_kept_until_the_result_goes(
    clocked_jobs, blobs, outbox, settings, clock
) -> None:
    keep = RetentionService(
        clocked_jobs,
        blobs,
        outbox,
        settings.model_copy(update={"delete_originals": False}),
        clock=clock,
    )
    job = finished_job(clocked_jobs, blobs, clock)
    assert not keep.job_finished(job)
    assert keep.run_once().originals == 0
    assert blobs.exists(job.input_key)
    clock.advance(timedelta(hours=settings.result_ttl_hours, seconds=1).total_seconds())
    assert keep.run_once().expired == 1
    assert not blobs.exists(job.input_key)
