"""The upkeep part of the ``JobStore`` contract (previews, marks, admin moves, scans)."""

from __future__ import annotations

import pytest

from pixserve.core.errors import IllegalTransition
from pixserve.domain import JobStatus, NewJob
from pixserve.queue import JobStore
from pixserve.queue.upkeep import iter_all_jobs
from tests.support.clock import FakeClock

LEASE = 30.0


def run_to(store: JobStore, clock: FakeClock, status: JobStatus, **fields: str) -> str:
    clock.advance(1)
    style = f"s{clock.now.timestamp():.0f}"  # its own style, so the claim takes this job
    job = store.enqueue(NewJob(style=style, input_key="jobs/x/input.jpg", **fields))
    if status is JobStatus.QUEUED:
        return job.id
    (claimed,) = store.claim("w1", lease_seconds=LEASE, styles={style})
    assert claimed.id == job.id
    if status is JobStatus.SUCCEEDED:
        assert store.succeed(job.id, "w1", result_key="r.jpg", content_type="image/jpeg")
    elif status is JobStatus.FAILED:
        assert store.fail(job.id, "w1", code="bad", message="bad")
    return job.id


def test_lang_round_trips(store: JobStore) -> None:
    job = store.enqueue(NewJob(style="s", input_key="k", lang="es"))
    got = store.get(job.id)
    assert got is not None and got.lang == "es"
    assert got.preview_key is None and got.input_deleted_at is None and got.notified_at is None


def test_a_preview_is_recorded_with_the_success_only_by_the_owner(
    store: JobStore, clock: FakeClock
) -> None:
    job_id = run_to(store, clock, JobStatus.RUNNING)
    for worker in ("w2", "w1"):
        done = store.succeed(
            job_id, worker, result_key="r.jpg", content_type="image/jpeg", preview_key="p.jpg"
        )
        assert (done is None) == (worker == "w2")
    assert done is not None and done.preview_key == "p.jpg"
    assert store.get(job_id) == done


def test_transition_is_guarded_and_checked(store: JobStore, clock: FakeClock) -> None:
    job_id = run_to(store, clock, JobStatus.SUCCEEDED)
    finished = store.get(job_id).finished_at  # type: ignore[union-attr]
    clock.advance(60)
    assert not store.transition(job_id, JobStatus.QUEUED, JobStatus.EXPIRED)
    assert store.transition(job_id, JobStatus.SUCCEEDED, JobStatus.EXPIRED)
    got = store.get(job_id)
    assert got is not None and got.status is JobStatus.EXPIRED
    assert got.finished_at == finished  # expiry does not restart the record's clock
    with pytest.raises(IllegalTransition):
        store.transition(job_id, JobStatus.EXPIRED, JobStatus.QUEUED)


def test_transition_to_failed_records_the_error(store: JobStore, clock: FakeClock) -> None:
    job_id = run_to(store, clock, JobStatus.RUNNING)
    assert store.transition(job_id, JobStatus.RUNNING, JobStatus.FAILED, code="blob_not_found")
    got = store.get(job_id)
    assert got is not None
    assert (got.status, got.error_code, got.finished_at) == (
        JobStatus.FAILED,
        "blob_not_found",
        clock.now,
    )


def test_find_finished_filters(store: JobStore, clock: FakeClock) -> None:
    done = run_to(store, clock, JobStatus.SUCCEEDED, email="a@b.co")
    failed = run_to(store, clock, JobStatus.FAILED)
    run_to(store, clock, JobStatus.QUEUED, email="c@d.co")
    cutoff = clock.now
    clock.advance(10)
    later = run_to(store, clock, JobStatus.SUCCEEDED)

    def ids(**kw: object) -> list[str]:
        return [j.id for j in store.find_finished(**kw)]  # type: ignore[arg-type]

    assert ids(statuses={JobStatus.SUCCEEDED}) == [done, later]
    assert ids(statuses={JobStatus.SUCCEEDED, JobStatus.FAILED}, finished_before=cutoff) == [
        done,
        failed,
    ]
    assert ids(statuses={JobStatus.SUCCEEDED, JobStatus.FAILED}, unnotified=True) == [done]
    assert store.mark_notified(done)
    assert not store.mark_notified(done)  # once
    assert ids(statuses={JobStatus.SUCCEEDED}, unnotified=True) == []
    assert store.mark_input_deleted(later)
    assert ids(statuses={JobStatus.SUCCEEDED}, input_kept=True) == [done]
    assert ids(statuses={JobStatus.SUCCEEDED}, input_kept=False) == [later]
    assert ids(statuses={JobStatus.SUCCEEDED}, limit=1) == [done]
    assert not store.mark_notified("no-such-job")


def test_scan_pages_through_every_job(store: JobStore, clock: FakeClock) -> None:
    made = sorted(run_to(store, clock, JobStatus.QUEUED) for _ in range(7))
    assert [j.id for j in store.scan(limit=3)] == made[:3]
    assert [j.id for j in store.scan(after=made[2], limit=3)] == made[3:6]
    assert [j.id for j in iter_all_jobs(store, page=2)] == made
