"""Many processes on PostgreSQL + S3: every job exactly once, none lost, whatever crashes.

Real processes throughout: ``pixserve serve --workers 0`` web nodes, ``pixserve worker``
processes, the machine's PostgreSQL (a fresh database per test), moto's S3 server, and for the
restart test a private PostgreSQL server that the test stops and starts.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

from pixserve.domain import JobStatus
from pixserve.queue import SqlJobStore
from pixserve.storage.s3 import S3BlobStore, S3Options
from tests.support.images import jpeg_bytes, photo
from tests.support.models import conv_chain_model, write_onnx_bundle
from tests.support.postgres import PrivatePostgres, create_database, drop_database
from tests.support.s3 import CREDENTIALS, S3Server
from tests.support.server import ServerProcess, wait_for_status
from tests.support.workers import WorkerProcess

pytestmark = pytest.mark.integration

JOBS = 300


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh database on the machine's PostgreSQL (the nodes migrate it themselves)."""
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


def small_jpegs(count: int, side: int = 24) -> list[bytes]:
    rng = np.random.default_rng(7)
    return [jpeg_bytes(rng.integers(0, 255, (side, side, 3), dtype=np.uint8)) for _ in range(count)]


def wait_until_finished(store: SqlJobStore, ids: list[str], timeout: float) -> list:
    """Poll the store until every job is terminal; return them."""
    deadline = time.monotonic() + timeout
    while True:
        jobs = [store.get(job_id) for job_id in ids]
        if all(job is not None and job.status.is_terminal for job in jobs):
            return jobs
        if time.monotonic() > deadline:
            waiting = Counter(str(job.status) if job else "missing" for job in jobs)
            raise AssertionError(f"jobs still unfinished after {timeout}s: {waiting}")
        time.sleep(0.2)


def test_four_workers_two_web_nodes_every_job_exactly_once(
    tmp_path: Path, database: str, s3_server: S3Server, s3_bucket: str
) -> None:
    env = {
        **CREDENTIALS,
        "PIXSERVE_DATABASE_URL": database,
        "PIXSERVE_STORAGE_URL": f"s3://{s3_bucket}/exactly-once",
        "PIXSERVE_S3_ENDPOINT_URL": s3_server.endpoint,
    }
    webs = [ServerProcess(tmp_path / f"web{n}", env=env, workers=0) for n in range(2)]
    workers = [WorkerProcess(tmp_path / f"worker{n}.log", env=env) for n in range(4)]
    store = SqlJobStore(database)
    try:
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda node: node.start(), [*webs, *workers]))
        images = small_jpegs(JOBS)

        def submit(n: int) -> str:
            with httpx.Client(base_url=webs[n % 2].url, timeout=30) as client:
                response = client.post(
                    "/v1/jobs", files={"file": ("p.jpg", images[n])}, data={"style": "pencil"}
                )
            assert response.status_code == 202, response.text
            return str(response.json()["id"])

        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(submit, range(JOBS)))
        assert len(set(ids)) == JOBS

        jobs = wait_until_finished(store, ids, timeout=240)
        assert Counter(job.status for job in jobs) == {JobStatus.SUCCEEDED: JOBS}
        # Claimed once each: no job ran twice, none was requeued.
        assert {job.attempts for job in jobs} == {1}
        # Each success logged by exactly one worker, and by the worker the job names.
        logged = Counter(job_id for w in workers for job_id in w.succeeded())
        assert logged == Counter(ids)
        owner = {wid: w for w in workers for wid in w.worker_ids()}
        for job in jobs:
            assert job.id in owner[job.worker_id].succeeded()
        assert len({job.worker_id for job in jobs}) > 1, "one worker did everything"

        # Exactly one result object per job in S3, the one the job points to.
        blobs = S3BlobStore(
            s3_bucket,
            "exactly-once",
            options=S3Options(
                endpoint_url=s3_server.endpoint,
                region=CREDENTIALS["AWS_DEFAULT_REGION"],
                access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            ),
        )
        results = Counter()
        for key in blobs.keys("jobs/"):
            if re.match(r"jobs/[^/]+/result-", key):
                results[key.split("/")[1]] += 1
        assert results == Counter(ids), "a job has no result, or more than one"
        assert {job.result_key for job in jobs} == {
            k for k in blobs.keys("jobs/") if "/result-" in k
        }

        # Any web node serves any result; the queue is empty in the metrics.
        for n, job in enumerate(jobs[:10]):
            with httpx.Client(base_url=webs[n % 2].url, timeout=30) as client:
                response = client.get(f"/v1/jobs/{job.id}/result")
                assert response.status_code == 200
                assert response.headers["content-type"] == "image/jpeg"
        metrics = httpx.get(f"{webs[0].url}/metrics", timeout=30).text
        assert 'pixserve_queue_depth{style="pencil"} 0' in metrics
        assert f'pixserve_jobs{{style="pencil",status="succeeded"}} {JOBS}' in metrics
    finally:
        store.close()
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda node: node.terminate(), [*workers, *webs]))


@pytest.fixture
def slow_styles(tmp_path: Path) -> Path:
    """A style that takes a second or two, so a test can act while a job runs (1.4 s for a
    1024² photo on a fast AMX host)."""
    styles = tmp_path / "styles"
    write_onnx_bundle(styles, "slowpoke", conv_chain_model(layers=24, width=24), max_side=1024)
    return styles


def slow_photo() -> bytes:
    return jpeg_bytes(photo("astronaut").repeat(2, axis=0).repeat(2, axis=1))


def test_kill_9_of_a_worker_mid_job_the_job_completes_on_another(
    tmp_path: Path, database: str, slow_styles: Path
) -> None:
    env = {
        "PIXSERVE_DATABASE_URL": database,
        "PIXSERVE_STORAGE_URL": str(tmp_path / "blobs"),
        "PIXSERVE_STYLES_PATH": str(slow_styles),
        "PIXSERVE_LEASE_SECONDS": "2",
        "PIXSERVE_EVENT_POLL_SECONDS": "0.05",  # "running" is fresh when the kill comes
    }
    web = ServerProcess(tmp_path / "web", env=env, workers=0)
    workers = [WorkerProcess(tmp_path / f"worker{n}.log", env=env) for n in range(2)]
    store = SqlJobStore(database)
    try:
        web.start()
        for w in workers:
            w.start()
        with httpx.Client(base_url=web.url, timeout=30) as client:
            response = client.post(
                "/v1/jobs", files={"file": ("a.jpg", slow_photo())}, data={"style": "slowpoke"}
            )
            assert response.status_code == 202, response.text
            job_id = response.json()["id"]
            running = wait_for_status(client, job_id, {"running", "succeeded"})
            assert running["status"] == "running", "the job finished before the kill"
            owner = store.get(job_id).worker_id  # type: ignore[union-attr]
            [doomed] = [w for w in workers if owner in w.worker_ids()]
            [survivor] = [w for w in workers if w is not doomed]
            doomed.kill()
            done = wait_for_status(client, job_id, {"succeeded", "failed"}, timeout=120)
            assert done["status"] == "succeeded", done
            assert client.get(f"/v1/jobs/{job_id}/result").status_code == 200
        job = store.get(job_id)
        assert job is not None
        assert job.attempts == 2, "the job should have run once more after the lease ran out"
        assert job.worker_id in survivor.worker_ids()
        assert job_id in survivor.succeeded() and job_id not in doomed.succeeded()
    finally:
        store.close()
        for w in workers:
            w.kill()
        web.terminate()


def test_postgres_restart_while_jobs_run_all_complete_and_web_answers_503(
    tmp_path: Path, slow_styles: Path
) -> None:
    pg = PrivatePostgres().init().start()
    env = {
        "PIXSERVE_DATABASE_URL": pg.url,
        "PIXSERVE_STORAGE_URL": str(tmp_path / "blobs"),
        "PIXSERVE_STYLES_PATH": str(slow_styles),
        "PIXSERVE_LEASE_SECONDS": "10",
    }
    web = ServerProcess(tmp_path / "web", env=env, workers=0)
    workers = [WorkerProcess(tmp_path / f"worker{n}.log", env=env) for n in range(2)]
    try:
        web.start()
        for w in workers:
            w.start()
        client = httpx.Client(base_url=web.url, timeout=30)
        image = jpeg_bytes(photo("astronaut"))
        ids = []
        for _ in range(12):
            response = client.post(
                "/v1/jobs", files={"file": ("a.jpg", image)}, data={"style": "slowpoke"}
            )
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
        wait_for_status(client, ids[0], {"running"})

        pg.stop("fast")
        seen: Counter[int] = Counter()
        down_until = time.monotonic() + 4
        while time.monotonic() < down_until:
            for response in (
                client.get(f"/v1/jobs/{ids[-1]}"),
                client.post(
                    "/v1/jobs", files={"file": ("a.jpg", image)}, data={"style": "slowpoke"}
                ),
                client.get("/readyz"),
            ):
                seen[response.status_code] += 1
                if response.status_code != 200:
                    assert response.status_code == 503, response.text
                    assert response.headers.get("retry-after") or response.url.path == "/readyz"
            time.sleep(0.1)
        assert set(seen) == {503}, f"answers while PostgreSQL was down: {dict(seen)}"
        pg.start()

        for job_id in ids:
            done = wait_for_status(client, job_id, {"succeeded", "failed", "canceled"}, 180)
            assert done["status"] == "succeeded", done
        assert client.get("/readyz").status_code == 200
        client.close()
    finally:
        for w in workers:
            w.terminate()
        web.terminate()
        pg.destroy()


def test_batching_worker_processes_on_postgres_run_every_job_once(
    tmp_path: Path, database: str
) -> None:
    """Two ``pixserve worker`` processes claiming batches of 4 from one PostgreSQL queue:
    every job exactly once, by the worker it names, and in batches."""
    from pixserve.bootstrap import build_runtime
    from pixserve.core.settings import Settings
    from pixserve.services import Submission

    styles = tmp_path / "styles"
    write_onnx_bundle(styles, "chain", conv_chain_model(layers=4, width=8, batch="n"))
    env = {
        "PIXSERVE_DATABASE_URL": database,
        "PIXSERVE_STORAGE_URL": str(tmp_path / "blobs"),
        "PIXSERVE_STYLES_PATH": str(styles),
        "PIXSERVE_STYLES": "chain",
        "PIXSERVE_BATCH_SIZE": "4",
    }
    settings = Settings(
        data_dir=tmp_path / "web",
        database_url=database,
        storage_url=str(tmp_path / "blobs"),
        styles_path=str(styles),
        styles="chain",
    )
    web = build_runtime(settings, warm=False)
    workers = [WorkerProcess(tmp_path / f"worker{n}.log", env=env) for n in range(2)]
    try:
        ids = [web.service.submit(Submission(data=d, style="chain")).id for d in small_jpegs(24)]
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda w: w.start(), workers))
        jobs = wait_until_finished(web.jobs, ids, timeout=120)
        assert Counter(job.status for job in jobs) == {JobStatus.SUCCEEDED: 24}
        assert {job.attempts for job in jobs} == {1}  # claimed once each, none requeued
        logged = Counter(job_id for w in workers for job_id in w.succeeded())
        assert logged == Counter(ids)
        owner = {wid: w for w in workers for wid in w.worker_ids()}
        for job in jobs:
            assert job.id in owner[job.worker_id].succeeded()
        sizes = [int(n) for w in workers for n in re.findall(r"runs (\d+) jobs", w.log())]
        assert sizes and max(sizes) == 4 and sum(sizes) <= 24
    finally:
        web.close()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda node: node.terminate(), workers))
