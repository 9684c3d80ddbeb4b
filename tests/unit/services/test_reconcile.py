"""Reconcile: orphan blobs and jobs whose images are missing."""

from __future__ import annotations

from pixserve.domain import JobStatus, NewJob
from pixserve.services.reconcile import Reconciler
from tests.unit.services.conftest import finished_job


def test_a_clean_store_agrees(clocked_jobs, blobs, clock, retention) -> None:
    job = finished_job(clocked_jobs, blobs, clock)
    retention.job_finished(job)
    report = Reconciler(clocked_jobs, blobs).scan()
    assert report.clean and report.jobs_checked == 1 and report.blobs_checked == 2


def test_finds_and_fixes_orphans_and_broken_jobs(clocked_jobs, blobs, clock, retention) -> None:
    done = finished_job(clocked_jobs, blobs, clock)
    retention.job_finished(done)
    blobs.delete(done.result_key)
    blobs.put("jobs/ghost/input.jpg", b"x")
    blobs.put(f"jobs/{done.id}/result-0-old.jpg", b"stray")
    queued = clocked_jobs.enqueue(NewJob(style="s", input_key="jobs/q/input.jpg"))
    reconciler = Reconciler(clocked_jobs, blobs)
    report = reconciler.scan()
    assert sorted(report.orphan_blobs) == sorted(
        [f"jobs/{done.id}/result-0-old.jpg", "jobs/ghost/input.jpg"]
    )
    assert {(b.job_id, b.missing, b.action) for b in report.broken_jobs} == {
        (done.id, "result", "expired"),
        (queued.id, "original", "expired"),
    }
    reconciler.fix(report)
    assert list(blobs.keys()) == []
    assert clocked_jobs.get(done.id).status is JobStatus.EXPIRED
    assert clocked_jobs.get(queued.id).status is JobStatus.EXPIRED
    assert clocked_jobs.get(queued.id).error_code == "blob_not_found"
    assert reconciler.scan().clean


def test_a_running_job_without_its_original_fails(clocked_jobs, blobs) -> None:
    job = clocked_jobs.enqueue(NewJob(style="s", input_key="jobs/r/input.jpg"))
    clocked_jobs.claim("w", lease_seconds=30)
    reconciler = Reconciler(clocked_jobs, blobs)
    reconciler.fix(reconciler.scan())
    assert clocked_jobs.get(job.id).status is JobStatus.FAILED
