from datetime import UTC, datetime

from pixserve.domain.job import Job, JobStatus
from pixserve.services.views import JobView

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def job(status: JobStatus, **kw) -> Job:
    return Job(
        id="j", style="s", status=status, input_key="k", created_at=NOW, updated_at=NOW, **kw
    )


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


def test_the_result_size_shows_once_succeeded():
    done = job(JobStatus.SUCCEEDED, result_key="r", result_width=2048, result_height=1365)
    view = JobView.of(done, position=None, eta_seconds=None)
    assert (view.result_width, view.result_height) == (2048, 1365)
    expired = job(JobStatus.EXPIRED, result_width=2048, result_height=1365)
    assert JobView.of(expired, position=None, eta_seconds=None).result_width is None
