import threading

import numpy as np
import pytest

from pixserve.core.errors import CorruptImage, Unavailable
from pixserve.domain.job import JobStatus, NewJob
from pixserve.imaging import decode_image
from pixserve.notify import LinkSigner, MemoryMailer, MemoryWebhookSender
from pixserve.queue import SqlOutbox
from pixserve.services import Submission
from pixserve.services.aftercare import Aftercare
from pixserve.services.delivery import DeliveryService
from pixserve.services.links import ResultLinks
from pixserve.worker import Worker, WorkerPool


@pytest.fixture
def worker(jobs, blobs, renderer, settings) -> Worker:
    return Worker(jobs, blobs, renderer, settings, worker_id="w-test")


def submit(service, data, **kw):
    return service.submit(Submission(data=data, style="invert", **kw)).id


def test_a_job_runs_to_success(service, worker, jobs, blobs, small_jpeg):
    job_id = submit(service, small_jpeg)
    assert worker.run_once()
    job = jobs.get(job_id)
    assert job.status is JobStatus.SUCCEEDED
    assert job.result_content_type == "image/jpeg"
    original = decode_image(small_jpeg, max_bytes=10**7, max_pixels=10**7).pixels
    result = decode_image(blobs.get(job.result_key), max_bytes=10**7, max_pixels=10**7).pixels
    # JPEG is lossy; the inversion must still be obvious.
    assert np.abs(result.astype(int) - (255 - original.astype(int))).mean() < 12
    assert service.status(job_id).progress == 1.0


def test_nothing_to_do(worker):
    assert worker.run_once() is False


def test_the_crop_reaches_the_renderer(service, worker, jobs, blobs, small_jpeg):
    job_id = submit(service, small_jpeg, crop="5,5,20,10")
    worker.run_once()
    job = jobs.get(job_id)
    out = decode_image(blobs.get(job.result_key), max_bytes=10**7, max_pixels=10**7)
    assert out.size == (20, 10)


def test_a_photo_is_decoded_at_the_size_the_style_shrinks_it_to(
    service, worker, jobs, blobs, renderer, small_jpeg
):
    renderer.decode_sides["invert"] = 30  # the 60×40 photo: its longer side to 30
    # The crop lies where only the full-size photo reaches.
    whole, cropped = submit(service, small_jpeg), submit(service, small_jpeg, crop="35,25,20,10")
    worker.run_once()
    worker.run_once()
    sizes = [
        decode_image(blobs.get(jobs.get(job).result_key), max_bytes=10**7, max_pixels=10**7).size
        for job in (whole, cropped)
    ]
    assert sizes == [(30, 20), (20, 10)]


def test_a_bad_image_fails_at_once(service, worker, jobs, renderer, small_jpeg):
    renderer.fail_with = CorruptImage("bad pixels")
    job_id = submit(service, small_jpeg)
    worker.run_once()
    job = jobs.get(job_id)
    assert job.status is JobStatus.FAILED
    assert (job.error_code, job.error_message) == ("corrupt_image", "bad pixels")
    assert job.attempts == 1


def test_a_crash_is_retried_then_fails(service, worker, jobs, renderer, small_jpeg):
    renderer.fail_with = RuntimeError("segfault-ish")
    job_id = submit(service, small_jpeg)
    worker.run_once()
    assert jobs.get(job_id).status is JobStatus.QUEUED
    worker.run_once()
    job = jobs.get(job_id)
    assert job.status is JobStatus.FAILED  # max_attempts is 2 in these settings
    assert job.error_code == "internal_error"
    assert "segfault" not in job.error_message  # no internals leak to the user


def test_storage_away_hands_the_job_back_without_spending_an_attempt(
    service, worker, jobs, blobs, small_jpeg, monkeypatch
):
    # An outage is not the job's fault: spending attempts on it failed whole queues.
    job_id = submit(service, small_jpeg)

    def away(key, data, **kw):
        raise Unavailable("S3 is unreachable")

    with monkeypatch.context() as m:
        m.setattr(blobs, "put", away)
        for _ in range(3):  # more than max_attempts (2)
            with pytest.raises(Unavailable):  # for run() to back off before claiming again
                worker.run_once()
            job = jobs.get(job_id)
            assert job.status is JobStatus.QUEUED and job.attempts == 0
    assert worker.run_once()
    assert jobs.get(job_id).status is JobStatus.SUCCEEDED


def test_a_deleted_job_leaves_nothing_behind(service, worker, jobs, blobs, renderer, small_jpeg):
    renderer.gate = threading.Event()
    job_id = submit(service, small_jpeg)
    thread = threading.Thread(target=worker.run_once)
    thread.start()
    assert renderer.started.wait(5)
    service.delete(job_id)
    renderer.gate.set()
    thread.join(10)
    assert jobs.get(job_id) is None
    assert list(blobs.keys()) == []


def test_release_hands_the_job_back_without_spending_an_attempt(
    service, worker, jobs, renderer, small_jpeg
):
    renderer.gate = threading.Event()
    job_id = submit(service, small_jpeg)
    thread = threading.Thread(target=worker.run_once)
    thread.start()
    assert renderer.started.wait(5)
    worker.release_current()
    job = jobs.get(job_id)
    assert job.status is JobStatus.QUEUED and job.attempts == 0
    renderer.gate.set()
    thread.join(10)
    assert jobs.get(job_id).status is JobStatus.QUEUED  # the stale run did not finish it


def test_pool_stops_gracefully(service, jobs, blobs, renderer, settings, small_jpeg):
    ids = [submit(service, small_jpeg) for _ in range(3)]
    pool = WorkerPool(lambda i: Worker(jobs, blobs, renderer, settings, worker_id=f"w{i}"), 2)
    pool.start()
    deadline = threading.Event()
    for _ in range(200):
        if all(jobs.get(i).status is JobStatus.SUCCEEDED for i in ids):
            break
        deadline.wait(0.02)
    pool.stop(grace_seconds=5)
    assert all(jobs.get(i).status is JobStatus.SUCCEEDED for i in ids)


def test_pool_hands_back_what_cannot_finish_in_time(
    service, jobs, blobs, renderer, settings, small_jpeg
):
    renderer.gate = threading.Event()
    job_id = submit(service, small_jpeg)
    pool = WorkerPool(lambda i: Worker(jobs, blobs, renderer, settings), 1)
    pool.start()
    assert renderer.started.wait(5)
    pool.stop(grace_seconds=0.1)
    assert jobs.get(job_id).status is JobStatus.QUEUED
    renderer.gate.set()


def test_success_records_the_result_size_and_the_run(service, worker, jobs, small_jpeg):
    job_id = submit(service, small_jpeg, crop="5,5,20,10")
    worker.run_once()
    job = jobs.get(job_id)
    assert (job.result_width, job.result_height) == (20, 10)
    view = service.status(job_id)
    assert (view.result_width, view.result_height) == (20, 10)
    stats = jobs.run_stats()["invert"]
    assert stats.runs == 1 and 0 < stats.mean_seconds < 10


@pytest.fixture
def announcing_worker(jobs, blobs, renderer, settings, catalog, sqlite_url):
    """A worker whose aftercare builds news: e-mails and webhooks into the job's outbox."""
    outbox = SqlOutbox(sqlite_url)
    secret = b"unit-test-secret-key-0123456789"
    deliveries = DeliveryService(
        jobs,
        outbox,
        blobs,
        catalog,
        ResultLinks(LinkSigner(secret), settings, blobs),
        settings,
        secret=secret,
        mailer=MemoryMailer(),
        webhooks=MemoryWebhookSender(),
    )
    aftercare = Aftercare(jobs, deliveries=deliveries)
    yield Worker(jobs, blobs, renderer, settings, aftercare=aftercare), outbox
    outbox.close()


def queue_announced(jobs, blobs, data) -> str:
    new = NewJob(
        style="invert", input_key="in.jpg", email="a@b.co", webhook_url="https://h.example/"
    )
    blobs.put(new.input_key, data)
    return jobs.enqueue(new).id


def test_a_finish_queues_its_news_in_the_same_write(
    announcing_worker, jobs, blobs, renderer, small_jpeg
):
    worker, outbox = announcing_worker
    job_id = queue_announced(jobs, blobs, small_jpeg)
    worker.run_once()
    job = jobs.get(job_id)
    assert job.status is JobStatus.SUCCEEDED and job.notified_at == job.finished_at
    events = sorted((d.channel.value, d.event.value) for d in outbox.for_job(job_id))
    assert events == [
        ("email", "job.succeeded"),
        ("webhook", "job.running"),
        ("webhook", "job.succeeded"),
    ]
    (hook,) = [d for d in outbox.for_job(job_id) if d.event.value == "job.succeeded" and d.payload]
    assert f"/v1/jobs/{job_id}/result?expires=" in hook.payload["body"]
    renderer.fail_with = CorruptImage("bad pixels")
    failed_id = queue_announced(jobs, blobs, small_jpeg)
    worker.run_once()
    assert jobs.get(failed_id).notified_at is not None
    terminal = [d.event.value for d in outbox.for_job(failed_id) if d.channel.value == "email"]
    assert terminal == ["job.failed"]
    assert jobs.find_finished(statuses=set(JobStatus), unnotified=True) == []
