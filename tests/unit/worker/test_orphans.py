"""A job whose worker process died on this host goes back to the queue before its lease ends."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pixserve.domain.job import JobStatus
from pixserve.services import Submission
from pixserve.worker import Worker
from pixserve.worker.orphans import holder_is_dead, holder_of, host_name, reclaim_orphans


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def long_lease(settings):
    return settings.model_copy(update={"lease_seconds": 3600})


def running_job(service, jobs, small_jpeg, worker_id: str) -> str:
    job_id = service.submit(Submission(data=small_jpeg, style="invert")).id
    assert [j.id for j in jobs.claim(worker_id, lease_seconds=3600)] == [job_id]
    return job_id


def test_worker_ids_name_the_host_and_process(jobs, blobs, renderer, long_lease) -> None:
    worker = Worker(jobs, blobs, renderer, long_lease)
    holder = holder_of(worker.worker_id)
    assert holder is not None and holder.host == host_name() and holder.pid == os.getpid()
    assert not holder_is_dead(worker.worker_id)
    assert holder_of("old-style-id") is None or not holder_is_dead("old-style-id")


def test_a_dead_holders_job_is_taken_at_once(
    service, jobs, blobs, renderer, long_lease, small_jpeg
) -> None:
    dead = f"{host_name()}-{dead_pid()}-abcd1234"
    job_id = running_job(service, jobs, small_jpeg, dead)
    worker = Worker(jobs, blobs, renderer, long_lease)
    assert worker.run_once()  # its first claim looks for orphans first
    job = jobs.get(job_id)
    assert job.status is JobStatus.SUCCEEDED and job.attempts == 2


@pytest.mark.parametrize(
    "holder",
    [
        f"another-host-{1}-abcd1234",  # another host's processes are not ours to judge
        f"{host_name()}-{os.getpid()}-not-ours",  # not a host-pid-random id
        "w-test",  # an id without a pid
    ],
)
def test_live_or_unknown_holders_keep_their_lease(service, jobs, small_jpeg, holder: str) -> None:
    job_id = running_job(service, jobs, small_jpeg, holder)
    assert reclaim_orphans(jobs) == []
    assert jobs.get(job_id).status is JobStatus.RUNNING


def test_a_live_process_keeps_its_lease(service, jobs, small_jpeg) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        job_id = running_job(service, jobs, small_jpeg, f"{host_name()}-{sleeper.pid}-abcd1234")
        assert reclaim_orphans(jobs) == []
        assert jobs.get(job_id).status is JobStatus.RUNNING
    finally:
        sleeper.kill()
        sleeper.wait()


def test_this_pid_with_an_id_this_process_never_gave_is_dead(service, jobs, small_jpeg) -> None:
    # A container restarted under the same hostname: the new worker can have the old pid.
    job_id = running_job(service, jobs, small_jpeg, f"{host_name()}-{os.getpid()}-deadbeef")
    assert reclaim_orphans(jobs) == [job_id]
