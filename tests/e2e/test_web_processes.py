"""``pixserve serve --web-processes 2``: two web processes answer on one port, and the one
set of job workers (in the parent) still runs the jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.support.images import jpeg_bytes, photo
from tests.support.server import PIXSERVE, free_port, wait_for_status

pytestmark = pytest.mark.e2e


def children(pid: int) -> list[int]:
    """The web processes uvicorn started (its spawn children, not helper processes)."""
    found = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"multiprocessing" in cmdline and b"resource_tracker" not in cmdline:
            found.append(int(child))
    return found


def answers(url: str, timeout: float = 30.0) -> bool:
    """Whether a new connection to ``url`` gets a 200 within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def test_two_web_processes_both_answer_and_a_job_completes(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PIXSERVE_DATA_DIR": str(tmp_path), "PIXSERVE_RATE_LIMIT": "30/minute"}
    log = (tmp_path / "server.log").open("ab")
    args = ["serve", "--port", str(port), "--workers", "1", "--web-processes", "2"]
    proc = subprocess.Popen([*PIXSERVE, *args], env=env, stdout=log, stderr=log)
    try:
        assert answers(url, timeout=120), (tmp_path / "server.log").read_text()
        deadline = time.monotonic() + 30
        while len(web := children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(web) == 2, web
        for stopped, other in (web, web[::-1]):
            # With one process stopped, new connections are answered by the other alone.
            os.kill(stopped, signal.SIGSTOP)
            try:
                # Briefly: uvicorn's supervisor restarts a child silent for 5 s.
                assert answers(url, timeout=3), f"{other} did not answer while {stopped} slept"
            finally:
                os.kill(stopped, signal.SIGCONT)
        with httpx.Client(base_url=url, timeout=30) as client:
            data = jpeg_bytes(photo("coffee"))
            response = client.post(
                "/v1/jobs", files={"file": ("p.jpg", data)}, data={"style": "pencil"}
            )
            assert response.status_code == 202, response.text
            done = wait_for_status(client, response.json()["id"], {"succeeded", "failed"})
            assert done["status"] == "succeeded", done
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    text = (tmp_path / "server.log").read_text()
    assert text.count("Application shutdown complete") == 2, text
    # memory:// counts per process: the operator is told, and how to share one count
    assert "counts PIXSERVE_RATE_LIMIT on its own" in text and "redis://" in text
