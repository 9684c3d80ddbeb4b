from datetime import UTC, datetime, timedelta

from pixserve.domain.job import Job, JobStatus
from pixserve.services.views import JobView, estimate_eta

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def job(status: JobStatus, **kw) -> Job:
    return Job(
        id="j", style="s", status=status, input_key="k", created_at=NOW, updated_at=NOW, **kw
    )


def test_eta_of_a_queued_job_shares_the_queue_among_workers():
    eta = estimate_eta(
        job(JobStatus.QUEUED), position=4, average_run_seconds=2.0, workers=2, now=NOW
    )
    assert eta == (4 / 2 + 1) * 2.0


def test_eta_of_a_running_job_is_what_is_left():
    running = job(JobStatus.RUNNING, started_at=NOW - timedelta(seconds=1.5))
    assert estimate_eta(running, position=None, average_run_seconds=2.0, workers=1, now=NOW) == 0.5
    late = job(JobStatus.RUNNING, started_at=NOW - timedelta(seconds=9))
    assert estimate_eta(late, position=None, average_run_seconds=2.0, workers=1, now=NOW) == 0.0


def test_no_eta_without_history_or_when_done():
    assert (
        estimate_eta(
            job(JobStatus.QUEUED), position=0, average_run_seconds=None, workers=1, now=NOW
        )
        is None
    )
    done = job(JobStatus.SUCCEEDED)
    assert estimate_eta(done, position=None, average_run_seconds=1.0, workers=1, now=NOW) is None


def test_view_hides_errors_of_jobs_that_will_be_retried():
    queued = job(JobStatus.QUEUED, error_code="internal_error", error_message="boom")
    view = JobView.of(queued, position=0, eta_seconds=None)
    assert view.error_code is None
    failed = job(JobStatus.FAILED, error_code="corrupt_image", error_message="bad")
    assert JobView.of(failed, position=None, eta_seconds=None).error_code == "corrupt_image"


def test_succeeded_view_has_full_progress_and_a_result():
    done = job(JobStatus.SUCCEEDED, result_key="jobs/j/result.jpg", progress=0.7)
    view = JobView.of(done, position=None, eta_seconds=None)
    assert view.progress == 1.0 and view.has_result
