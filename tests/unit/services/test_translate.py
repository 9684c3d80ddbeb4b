import pytest

from pixserve.core.errors import JobNotFound, UnknownStyle, UnsupportedImage
from pixserve.domain.job import JobStatus
from pixserve.imaging import decode_image
from pixserve.services import Submission
from pixserve.services.translate import status_for_code
from pixserve.worker import Worker


@pytest.fixture
def worker(jobs, blobs, renderer, settings):
    return Worker(jobs, blobs, renderer, settings)


def test_submit_queues_a_durable_job_through_the_job_service(translator, jobs, small_jpeg):
    view = translator.submit(Submission(small_jpeg, "slow"))  # slow styles too
    assert view.status is JobStatus.QUEUED and jobs.get(view.id) is not None
    assert translator.finished(view.id) is None


def test_submit_applies_the_intake_checks(translator, small_jpeg):
    with pytest.raises(UnknownStyle):
        translator.submit(Submission(small_jpeg, "nope"))
    with pytest.raises(UnsupportedImage):
        translator.submit(Submission(b"not an image", "invert"))


def test_finished_gives_the_image_of_a_succeeded_job(translator, worker, small_jpeg):
    view = translator.submit(Submission(small_jpeg, "invert", crop="10,5,20,30"))
    assert worker.run_once()
    finished = translator.finished(view.id)
    assert finished is not None and finished.result is not None
    assert finished.view.status is JobStatus.SUCCEEDED
    assert finished.result.content_type == "image/jpeg"
    assert decode_image(finished.result.data, max_bytes=10**6, max_pixels=10**6).size == (20, 30)


def test_finished_gives_a_failed_job_without_an_image(translator, worker, renderer, small_jpeg):
    renderer.fail_with = UnsupportedImage()
    view = translator.submit(Submission(small_jpeg, "invert"))
    assert worker.run_once()
    finished = translator.finished(view.id)
    assert finished is not None and finished.result is None
    assert finished.view.error_code == "unsupported_image"


def test_a_deleted_job_is_not_found(translator, service, small_jpeg):
    view = translator.submit(Submission(small_jpeg, "invert"))
    service.delete(view.id)
    with pytest.raises(JobNotFound):
        translator.finished(view.id)


def test_the_wait_is_capped_by_the_setting(translator, settings):
    limit = settings.translate_wait_seconds
    assert translator.wait_seconds(None) == limit
    assert translator.wait_seconds(limit + 100) == limit
    assert translator.wait_seconds(0.5) == 0.5
    assert translator.wait_seconds(-1) == 0


def test_status_for_code():
    assert status_for_code("unsupported_image") == 415
    assert status_for_code("no_face_found") == 422
    assert status_for_code("queue_full") == 503
    assert status_for_code("lease_expired") == 500
    assert status_for_code(None) == 500
