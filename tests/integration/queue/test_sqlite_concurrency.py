"""Several OS processes sharing one SQLite queue: every job is claimed exactly once."""

from __future__ import annotations

import json
import multiprocessing
import random
from pathlib import Path
from typing import Any

from pixserve.domain import JobStatus, NewJob
from pixserve.queue import SqlJobStore, current_revision, head_revision, upgrade

JOBS = 200
PROCESSES = 4
STYLES = ["anime", "monet", "sketch"]


def _claim_until_empty(url: str, worker_id: str, out: str, barrier: Any) -> None:
    """Child process: claim batches and finish them until the queue is empty."""
    store = SqlJobStore(url)
    barrier.wait(timeout=60)
    rng = random.Random(worker_id)
    claimed: list[str] = []
    while True:
        batch = store.claim(worker_id, lease_seconds=300, limit=rng.randint(1, 4))
        if not batch:
            break
        assert len({job.style for job in batch}) == 1
        for job in batch:
            assert store.succeed(job.id, worker_id, result_key="r", content_type="image/png")
            claimed.append(job.id)
    store.close()
    Path(out).write_text(json.dumps(claimed))


def _upgrade(url: str, barrier: Any) -> None:
    barrier.wait(timeout=60)
    upgrade(url)


def test_processes_claim_each_job_exactly_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/jobs.db"
    upgrade(url)
    store = SqlJobStore(url)
    ids = {store.enqueue(NewJob(style=STYLES[i % 3], input_key=f"in/{i}")).id for i in range(JOBS)}

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    outs = [tmp_path / f"claimed-{n}.json" for n in range(PROCESSES)]
    procs = [
        ctx.Process(target=_claim_until_empty, args=(url, f"worker-{n}", str(out), barrier))
        for n, out in enumerate(outs)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * PROCESSES

    claimed = [job_id for out in outs for job_id in json.loads(out.read_text())]
    assert len(claimed) == JOBS, "a job was claimed twice or lost"
    assert set(claimed) == ids
    assert store.counts() == {
        (style, JobStatus.SUCCEEDED): sum(1 for i in range(JOBS) if STYLES[i % 3] == style)
        for style in STYLES
    }
    for n, out in enumerate(outs):
        for job_id in json.loads(out.read_text()):
            job = store.get(job_id)
            assert job is not None
            assert job.worker_id == f"worker-{n}" and job.attempts == 1
    store.close()


def test_concurrent_upgrades_of_a_fresh_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    procs = [ctx.Process(target=_upgrade, args=(url, barrier)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * PROCESSES
    assert current_revision(url) == head_revision()


def test_upgrade_is_idempotent_on_an_existing_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/jobs.db"
    upgrade(url)
    store = SqlJobStore(url)
    job = store.enqueue(NewJob(style="s", input_key="k"))
    upgrade(url)
    upgrade(url)
    assert current_revision(url) == head_revision()
    assert store.get(job.id) == job
    store.close()
