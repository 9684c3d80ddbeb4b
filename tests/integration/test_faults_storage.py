"""Storage unreachable while a worker finishes a job: no job is lost once S3 comes back.

A real ``pixserve serve`` (SQLite, one worker) keeps its blobs in moto's S3 server, reached
through a TCP relay in this process. moto keeps objects in memory, so the server itself is
not stopped; the relay is: it stops listening (new connections are refused) and resets every
connection in flight — what a client sees when an S3 endpoint or MinIO restarts. Jobs of a
slow style are running when the relay goes down, so the worker's ``PUT`` of the result is the
first call to fail. ``PIXSERVE_SOAK=1`` (``make soak``) raises the jobs from 6 to 20.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from pixserve.domain import JobStatus
from pixserve.queue import SqlJobStore
from tests.support.images import jpeg_bytes, photo
from tests.support.models import conv_chain_model, write_onnx_bundle
from tests.support.s3 import CREDENTIALS, S3Server
from tests.support.server import ServerProcess, free_port, wait_for_status

pytestmark = pytest.mark.integration

JOBS = 20 if os.environ.get("PIXSERVE_SOAK") else 6
#: How long storage stays unreachable: an S3 endpoint's or a MinIO's restart.
OUTAGE_SECONDS = 5.0


class Relay:
    """A TCP relay from ``port`` to ``upstream`` that can be cut (refusing) and restored."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.accepted = 0
        self.reset = 0
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Relay:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        listener.settimeout(0.05)
        self._listener = listener
        self._stop.clear()
        self._thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._thread.start()
        return self

    def cut(self) -> None:
        """Stop listening (connections are refused) and reset every connection open now."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            pairs, self._pairs = self._pairs, set()
        for pair in pairs:
            self.reset += 1
            for sock in pair:
                _close(sock, reset=True)

    def _accept(self, listener: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                _close(client, reset=True)
                continue
            pair = (client, server)
            with self._lock:
                self._pairs.add(pair)
                self.accepted += 1
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(src, dst, pair), daemon=True).start()

    def _pump(
        self, src: socket.socket, dst: socket.socket, pair: tuple[socket.socket, socket.socket]
    ) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        with self._lock:
            self._pairs.discard(pair)
        for sock in pair:
            _close(sock)


def _close(sock: socket.socket, *, reset: bool = False) -> None:
    try:
        if reset:  # RST rather than FIN: the peer sees "connection reset"
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
        else:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def running_job(client: httpx.Client, ids: list[str]) -> str:
    """The job running now (the worker runs one at a time)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for job_id in ids:
            if client.get(f"/v1/jobs/{job_id}").json()["status"] == "running":
                return job_id
        time.sleep(0.05)
    raise AssertionError("no job was running")


@pytest.fixture
def slow_styles(tmp_path: Path) -> Path:
    """A style that takes a second or so, so storage can go away while jobs run."""
    styles = tmp_path / "styles"
    write_onnx_bundle(styles, "slowpoke", conv_chain_model(layers=24), max_side=1024)
    return styles


def test_storage_unreachable_while_jobs_finish_none_is_lost(
    tmp_path: Path, s3_server: S3Server, s3_bucket: str, slow_styles: Path
) -> None:
    relay = Relay(("127.0.0.1", s3_server.port)).start()
    env = {
        **CREDENTIALS,
        "PIXSERVE_STORAGE_URL": f"s3://{s3_bucket}/faults",
        "PIXSERVE_S3_ENDPOINT_URL": relay.endpoint,
        "PIXSERVE_STYLES_PATH": str(slow_styles),
        "PIXSERVE_POLL_INTERVAL": "0.1",
    }
    server = ServerProcess(tmp_path / "data", env=env).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            image = jpeg_bytes(photo("astronaut"))
            ids = []
            for _ in range(JOBS):
                response = client.post(
                    "/v1/jobs", files={"file": ("a.jpg", image)}, data={"style": "slowpoke"}
                )
                assert response.status_code == 202, response.text
                ids.append(response.json()["id"])
            running = running_job(client, ids)

            relay.cut()
            cut_at = time.monotonic()
            time.sleep(OUTAGE_SECONDS)
            during = Counter(client.get(f"/v1/jobs/{j}").json()["status"] for j in ids)
            relay.start()
            outage = time.monotonic() - cut_at
            waiting = during["queued"] + during["running"]

            finished = [
                wait_for_status(client, j, {"succeeded", "failed", "canceled"}, timeout=120)
                for j in ids
            ]
            # None is stuck: every job reached a final status above (else wait_for_status
            # failed), and each one that failed says storage was unavailable.
            statuses = Counter(job["status"] for job in finished)
            store = SqlJobStore(f"sqlite:///{server.data_dir / 'pixserve.db'}")
            try:
                jobs = [store.get(j) for j in ids]
            finally:
                store.close()
            assert all(job is not None for job in jobs)
            lost = {
                job.id: f"{job.error_code} after {job.attempts} attempts"
                for job in jobs
                if job is not None and job.status is not JobStatus.SUCCEEDED
            }
            handed_back = server.log().count("handed back: a service it needs is unavailable")
            downloads = [
                client.get(f"/v1/jobs/{job['id']}/result").status_code
                for job in finished
                if job["status"] == "succeeded"
            ]
            print(
                f"\ninjected: S3 unreachable for {outage:.1f} s while job "
                f"{ids.index(running) + 1} of {JOBS} ran ({waiting} still to run when it came "
                f"back); counted: {statuses['succeeded']} succeeded, {handed_back} hand-backs "
                f"without spending an attempt, "
                f"{len(lost)} lost {dict(Counter(lost.values()))}"
            )
            assert all(code == 200 for code in downloads), downloads
            assert {job["error"]["code"] for job in finished if job["status"] != "succeeded"} <= {
                "unavailable"
            }
            assert statuses == {"succeeded": JOBS}, f"{len(lost)} of {JOBS} jobs lost: {lost}"
    finally:
        relay.cut()
        assert server.terminate(), server.log()
