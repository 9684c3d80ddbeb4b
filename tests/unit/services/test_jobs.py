import numpy as np
import pytest

from pixserve.core.errors import (
    CorruptImage,
    InvalidCrop,
    InvalidRequest,
    JobNotFound,
    QueueFull,
    ResultNotReady,
    UnknownStyle,
    UnsupportedImage,
)
from pixserve.domain.job import JobStatus
from pixserve.queue import SqlJobStore
from pixserve.services import JobService, Submission
from tests.support.clock import FakeClock
from tests.support.images import jpeg_bytes, truncated_jpeg


def test_submit_stores_the_original_and_queues(service, jobs, blobs, small_jpeg):
    view = service.submit(Submission(data=small_jpeg, style="invert"))
    assert view.status is JobStatus.QUEUED
    assert view.position == 0
    job = jobs.get(view.id)
    assert job is not None and job.input_key.startswith(f"jobs/{view.id}/")
    assert blobs.get(job.input_key) == small_jpeg


def test_a_job_claimed_while_viewed_shows_as_running(service, jobs, small_jpeg):
    view = service.submit(Submission(data=small_jpeg, style="invert"))
    stale = jobs.get(view.id)  # read while queued, as submit holds it after enqueue
    (claimed,) = jobs.claim("w1", lease_seconds=30)
    assert claimed.id == view.id
    shown = service.view(stale)
    assert shown.status is JobStatus.RUNNING and shown.position is None


def test_positions_count_the_jobs_ahead(service, small_jpeg):
    views = [service.submit(Submission(data=small_jpeg, style="invert")) for _ in range(3)]
    assert [service.status(v.id).position for v in views] == [0, 1, 2]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"hello, I am text", UnsupportedImage),
        (truncated_jpeg(), CorruptImage),
    ],
)
def test_bad_images_are_refused_and_nothing_is_stored(service, jobs, blobs, data, error):
    with pytest.raises(error):
        service.submit(Submission(data=data, style="invert"))
    assert list(blobs.keys()) == []
    assert jobs.queued_count() == 0


def test_unknown_style(service, small_jpeg):
    with pytest.raises(UnknownStyle):
        service.submit(Submission(data=small_jpeg, style="nope"))


def test_crop_is_checked_against_the_upright_size(service):
    # Stored 60×40 with orientation 6: upright it is 40 wide and 60 tall.
    data = jpeg_bytes(np.zeros((40, 60, 3), np.uint8), exif_orientation=6)
    service.submit(Submission(data=data, style="invert", crop="0,0,40,60"))
    with pytest.raises(InvalidCrop):
        service.submit(Submission(data=data, style="invert", crop="0,0,60,40"))


@pytest.mark.parametrize(
    "fields",
    [{"email": "not-an-address"}, {"webhook_url": "ftp://x"}, {"email": "a b@c.d"}],
)
def test_bad_contact_fields(service, small_jpeg, fields):
    with pytest.raises(InvalidRequest):
        service.submit(Submission(data=small_jpeg, style="invert", **fields))


def test_queue_full(jobs, blobs, catalog, settings, small_jpeg):
    service = JobService(jobs, blobs, catalog, settings.model_copy(update={"max_queue": 2}))
    for _ in range(2):
        service.submit(Submission(data=small_jpeg, style="invert"))
    with pytest.raises(QueueFull):
        service.submit(Submission(data=small_jpeg, style="invert"))
    assert len([k for k in blobs.keys() if k.endswith("input.jpg")]) == 2


def test_enqueue_failure_leaves_no_blob(service, jobs, blobs, small_jpeg, monkeypatch):
    def broken(new):
        raise RuntimeError("database went away")

    monkeypatch.setattr(jobs, "enqueue", broken)
    with pytest.raises(RuntimeError):
        service.submit(Submission(data=small_jpeg, style="invert"))
    assert list(blobs.keys()) == []


def test_result_before_success(service, small_jpeg):
    view = service.submit(Submission(data=small_jpeg, style="invert"))
    with pytest.raises(ResultNotReady):
        service.result(view.id)


def test_delete_cancels_and_removes_everything(service, jobs, blobs, small_jpeg):
    view = service.submit(Submission(data=small_jpeg, style="invert"))
    blobs.put(f"jobs/{view.id}/result-1-w.jpg", b"x")
    job = service.delete(view.id)
    assert job.status is JobStatus.CANCELED
    assert jobs.get(view.id) is None
    assert list(blobs.keys()) == []
    with pytest.raises(JobNotFound):
        service.status(view.id)
    with pytest.raises(JobNotFound):
        service.delete(view.id)


def run_to_success(jobs, job_id, seconds, worker="w1"):
    (claimed,) = jobs.claim(worker, lease_seconds=30)
    assert claimed.id == job_id
    assert jobs.succeed(
        job_id, worker, result_key="r", content_type="image/jpeg", run_seconds=seconds
    )


def test_eta_survives_deleting_the_jobs_it_learned_from(service, jobs, small_jpeg):
    """ "Delete my images" (and retention) remove job rows; the statistics stay."""
    assert service.submit(Submission(data=small_jpeg, style="invert")).eta_seconds is None
    first = service.submit(Submission(data=small_jpeg, style="invert"))
    jobs.delete(jobs.claim("w0", lease_seconds=30)[0].id)  # the eta-less one, gone
    run_to_success(jobs, first.id, 4.0)
    service.delete(first.id)
    assert jobs.get(first.id) is None
    later = service.submit(Submission(data=small_jpeg, style="invert"))
    assert later.eta_seconds == 4.0


def test_a_job_behind_a_long_running_one_is_not_told_one_second(
    sqlite_url, blobs, catalog, settings, small_jpeg
):
    clock = FakeClock()
    jobs = SqlJobStore(sqlite_url, clock=clock)
    service = JobService(jobs, blobs, catalog, settings, clock=clock)
    quick = service.submit(Submission(data=small_jpeg, style="invert"))
    run_to_success(jobs, quick.id, 1.0)  # invert usually takes a second
    big = service.submit(Submission(data=small_jpeg, style="invert"))
    jobs.claim("w1", lease_seconds=30)
    clock.advance(40)  # … but this one is a big photo: 40 s in, 40/47 done
    jobs.heartbeat(big.id, "w1", lease_seconds=30, progress=40 / 47)
    waiting = service.submit(Submission(data=small_jpeg, style="invert"))
    assert waiting.position == 0
    assert waiting.eta_seconds == pytest.approx(7.0 + 1.0, abs=0.1)
    assert service.status(big.id).eta_seconds == pytest.approx(7.0, abs=0.1)
    jobs.close()
