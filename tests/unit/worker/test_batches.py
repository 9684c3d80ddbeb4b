"""A worker runs queued jobs of a style whose model takes batches together, and each job
still ends on its own: its own result, failure, retry, loss or hand-back."""

import threading

import numpy as np
import pytest

from pixserve.core.errors import CorruptImage, Unavailable
from pixserve.domain.job import JobStatus
from pixserve.imaging import decode_image
from pixserve.services import Submission
from pixserve.worker import Worker, WorkerPool
from tests.support.images import jpeg_bytes


@pytest.fixture
def worker(jobs, blobs, renderer, settings) -> Worker:
    renderer.batch = 3
    return Worker(jobs, blobs, renderer, settings, worker_id="w-batch")


def submit(service, data, style="invert", **kw):
    return service.submit(Submission(data=data, style=style, **kw)).id


def pixels(data: bytes) -> np.ndarray:
    return decode_image(data, max_bytes=10**7, max_pixels=10**7).pixels


def test_queued_jobs_of_the_style_run_as_one_batch(service, worker, jobs, blobs, renderer):
    rng = np.random.default_rng(1)
    uploads = [  # each its own size and content
        jpeg_bytes(rng.integers(0, 255, (30 + 4 * i, 50, 3), dtype=np.uint8)) for i in range(4)
    ]
    ids = [submit(service, data) for data in uploads]
    assert worker.run_once()
    assert renderer.batches == [3]  # the three oldest; the fourth waits for the next claim
    states = [jobs.get(i).status for i in ids]
    assert states == [JobStatus.SUCCEEDED] * 3 + [JobStatus.QUEUED]
    for job_id, data in zip(ids[:3], uploads, strict=False):
        job = jobs.get(job_id)
        original = pixels(data).astype(int)
        result = pixels(blobs.get(job.result_key)).astype(int)
        assert result.shape == original.shape  # its own image came back, not a neighbour's
        assert np.abs(result - (255 - original)).mean() < 12
        assert service.status(job_id).progress == 1.0
    assert worker.run_once()
    assert renderer.batches == [3] and len(renderer.calls) == 4  # a lone job runs alone
    assert jobs.get(ids[3]).status is JobStatus.SUCCEEDED
    assert worker.running == []


def test_a_style_that_does_not_batch_claims_one_job(service, worker, jobs, renderer, small_jpeg):
    renderer.batch = 1  # as on a CPU: other workers may take the rest meanwhile
    ids = [submit(service, small_jpeg) for _ in range(3)]
    assert worker.run_once()
    assert renderer.batches == []
    assert [jobs.get(i).status for i in ids] == [
        JobStatus.SUCCEEDED,
        JobStatus.QUEUED,
        JobStatus.QUEUED,
    ]


def test_a_batch_holds_one_style_only(service, worker, jobs, renderer, small_jpeg):
    first = submit(service, small_jpeg, style="invert")
    other = submit(service, small_jpeg, style="slow")
    second = submit(service, small_jpeg, style="invert")
    assert worker.run_once()
    assert renderer.batches == [2]
    assert jobs.get(first).status is JobStatus.SUCCEEDED
    assert jobs.get(second).status is JobStatus.SUCCEEDED
    assert jobs.get(other).status is JobStatus.QUEUED


def test_each_job_of_a_batch_ends_by_its_own_outcome(
    service, worker, jobs, blobs, renderer, small_jpeg
):
    ids = [submit(service, small_jpeg) for _ in range(3)]
    blobs.delete(jobs.get(ids[0]).input_key)  # its original is gone: it cannot be decoded
    renderer.fail_image = {1: CorruptImage("bad pixels")}  # the third job's render fails
    assert worker.run_once()
    assert renderer.batches == [2]  # the undecodable one never reached the model
    gone, fine, bad = (jobs.get(i) for i in ids)
    assert (gone.status, gone.error_code) == (JobStatus.FAILED, "blob_not_found")
    assert fine.status is JobStatus.SUCCEEDED
    assert (bad.status, bad.error_code, bad.error_message) == (
        JobStatus.FAILED,
        "corrupt_image",
        "bad pixels",
    )


def test_a_crash_in_one_image_retries_that_job_only(service, worker, jobs, renderer, small_jpeg):
    ids = [submit(service, small_jpeg) for _ in range(2)]
    renderer.fail_image = {0: RuntimeError("segfault-ish")}
    worker.run_once()
    crashed, fine = (jobs.get(i) for i in ids)
    assert crashed.status is JobStatus.QUEUED and crashed.attempts == 1
    assert fine.status is JobStatus.SUCCEEDED


def test_a_job_deleted_during_its_batch_leaves_nothing_behind(
    service, worker, jobs, blobs, renderer, small_jpeg
):
    renderer.gate = threading.Event()
    ids = [submit(service, small_jpeg) for _ in range(2)]
    thread = threading.Thread(target=worker.run_once)
    thread.start()
    assert renderer.started.wait(5)
    service.delete(ids[0])
    renderer.gate.set()
    thread.join(10)
    assert jobs.get(ids[0]) is None
    kept = jobs.get(ids[1])
    assert kept.status is JobStatus.SUCCEEDED
    assert sorted(blobs.keys()) == sorted([kept.input_key, kept.result_key])


def test_storage_away_hands_the_whole_batch_back(
    service, worker, jobs, blobs, small_jpeg, monkeypatch
):
    ids = [submit(service, small_jpeg) for _ in range(3)]

    def away(key, data, **kw):
        raise Unavailable("S3 is unreachable")

    with monkeypatch.context() as m:
        m.setattr(blobs, "put", away)
        with pytest.raises(Unavailable):  # for run() to back off before claiming again
            worker.run_once()
    for job_id in ids:
        job = jobs.get(job_id)
        assert job.status is JobStatus.QUEUED and job.attempts == 0
    assert worker.running == []
    assert worker.run_once()
    assert all(jobs.get(i).status is JobStatus.SUCCEEDED for i in ids)


def test_release_hands_every_job_of_the_batch_back(service, worker, jobs, renderer, small_jpeg):
    renderer.gate = threading.Event()
    ids = [submit(service, small_jpeg) for _ in range(2)]
    thread = threading.Thread(target=worker.run_once)
    thread.start()
    assert renderer.started.wait(5)
    assert worker.current is not None
    worker.release_current()
    assert all(jobs.get(i).status is JobStatus.QUEUED for i in ids)
    renderer.gate.set()
    thread.join(10)
    assert all(jobs.get(i).status is JobStatus.QUEUED for i in ids)  # the stale run lost them


def test_a_batch_waits_briefly_for_more_jobs_of_its_style(
    service, jobs, blobs, renderer, settings, small_jpeg
):
    renderer.batch = 2
    waiting = Worker(
        jobs, blobs, renderer, settings.model_copy(update={"batch_wait": 30.0}), worker_id="w"
    )
    first = submit(service, small_jpeg)
    thread = threading.Thread(target=waiting.run)
    thread.start()
    try:
        assert _until(lambda: jobs.get(first).status is JobStatus.RUNNING)
        threading.Event().wait(0.2)
        assert renderer.calls == []  # claimed, and waiting for a second job of its style
        second = submit(service, small_jpeg)  # wakes it: the batch is full, it runs at once
        assert _until(lambda: jobs.get(second).status is JobStatus.SUCCEEDED)
    finally:
        waiting.request_stop()
        thread.join(10)
    assert renderer.batches == [2]
    assert jobs.get(first).status is JobStatus.SUCCEEDED


def _until(condition, seconds: float = 10.0) -> bool:
    deadline = threading.Event()
    for _ in range(int(seconds / 0.01)):
        if condition():
            return True
        deadline.wait(0.01)
    return False


def test_a_pool_of_batching_workers_runs_every_job(
    service, jobs, blobs, renderer, settings, small_jpeg
):
    renderer.batch = 4
    ids = [submit(service, small_jpeg) for _ in range(10)]
    pool = WorkerPool(lambda i: Worker(jobs, blobs, renderer, settings, worker_id=f"w{i}"), 2)
    pool.start()
    try:
        assert _until(lambda: all(jobs.get(i).status is JobStatus.SUCCEEDED for i in ids))
    finally:
        pool.stop(grace_seconds=5)
    assert len(renderer.calls) == 10  # each image rendered once
    assert max(renderer.batches) > 1


def test_a_batched_job_records_its_share_of_the_run(
    service, worker, jobs, renderer, small_jpeg, monkeypatch
):
    # ETAs count queued jobs at their style's mean run time: with the whole batch's time
    # for each job, a queue's ETA would grow with the batch size.
    render_batch = renderer.render_batch

    def slow(style, items):
        threading.Event().wait(1.0)  # the model: one second for both images
        return render_batch(style, items)

    monkeypatch.setattr(renderer, "render_batch", slow)
    renderer.batch = 2
    for _ in range(2):
        submit(service, small_jpeg)
    assert worker.run_once()
    stats = jobs.run_stats()["invert"]
    assert stats.runs == 2
    assert 0.5 <= stats.mean_seconds < 0.9  # half of the shared second each, plus storing
