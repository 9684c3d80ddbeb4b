"""No job is lost: a server killed mid-job, and a server stopped politely mid-job."""

from __future__ import annotations

import httpx
import pytest

from tests.support.images import jpeg_bytes, photo
from tests.support.models import conv_chain_model, write_onnx_bundle
from tests.support.server import ServerProcess, wait_for_status

pytestmark = pytest.mark.e2e


@pytest.fixture
def slow_env(tmp_path):
    """A style that takes seconds, so a test can act while a job is running (1.4 s for its
    1024² photo on a fast AMX host, 0.5 s at width 16, too close to the status's lag)."""
    styles = tmp_path / "styles"
    write_onnx_bundle(styles, "slowpoke", conv_chain_model(layers=24, width=24), max_side=1024)
    return {
        "PIXSERVE_STYLES_PATH": str(styles),
        "PIXSERVE_LEASE_SECONDS": "2",
        # Status calls are answered from the web process's hub, which re-reads a job this
        # often (0.5 s by default): "running" must still be true when the test acts on it.
        "PIXSERVE_EVENT_POLL_SECONDS": "0.05",
    }


def submit_slow(client: httpx.Client) -> str:
    photo_bytes = jpeg_bytes(photo("astronaut").repeat(2, axis=0).repeat(2, axis=1))
    response = client.post(
        "/v1/jobs", files={"file": ("a.jpg", photo_bytes)}, data={"style": "slowpoke"}
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


def test_sigkill_mid_job_then_restart_the_job_still_succeeds(tmp_path, slow_env):
    data_dir = tmp_path / "data"
    first = ServerProcess(data_dir, env=slow_env).start()
    try:
        with httpx.Client(base_url=first.url, timeout=10) as client:
            job_id = submit_slow(client)
            running = wait_for_status(client, job_id, {"running", "succeeded"})
            assert running["status"] == "running", "the job finished before the kill"
    finally:
        first.kill()

    second = ServerProcess(data_dir, env=slow_env).start()
    try:
        with httpx.Client(base_url=second.url, timeout=10) as client:
            done = wait_for_status(client, job_id, {"succeeded", "failed"}, timeout=120)
            assert done["status"] == "succeeded", done
            assert client.get(done["result_url"]).status_code == 200
    finally:
        assert second.terminate(), second.log()


def test_a_killed_workers_job_is_taken_back_at_once_not_after_its_lease(tmp_path, slow_env):
    # With a 10-minute lease, the job can only finish within the wait below if the restarted
    # worker on this host sees that the holder's process is gone and takes the job back.
    env = {**slow_env, "PIXSERVE_LEASE_SECONDS": "600"}
    data_dir = tmp_path / "data"
    first = ServerProcess(data_dir, env=env).start()
    try:
        with httpx.Client(base_url=first.url, timeout=10) as client:
            job_id = submit_slow(client)
            assert wait_for_status(client, job_id, {"running", "succeeded"})["status"] == "running"
    finally:
        first.kill()

    second = ServerProcess(data_dir, env=env).start()
    try:
        with httpx.Client(base_url=second.url, timeout=10) as client:
            done = wait_for_status(client, job_id, {"succeeded", "failed"}, timeout=120)
            assert done["status"] == "succeeded", done
        assert "died; back to the queue now" in second.log()
    finally:
        assert second.terminate(), second.log()


def test_sigterm_lets_the_running_job_finish(tmp_path, slow_env):
    server = ServerProcess(tmp_path / "data", env=slow_env).start()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        job_id = submit_slow(client)
        wait_for_status(client, job_id, {"running"})
    assert server.terminate(timeout=90), server.log()

    again = ServerProcess(tmp_path / "data", env=slow_env, workers=0).start()
    try:
        with httpx.Client(base_url=again.url, timeout=10) as client:
            assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "succeeded"
    finally:
        again.terminate()
