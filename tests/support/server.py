"""Start and stop real ``pixserve`` processes for end-to-end tests."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PIXSERVE = [sys.executable, "-m", "pixserve.cli"]


#: Ports handed out by this test process, never handed out twice.
_given: set[int] = set()


def free_port() -> int:
    """A TCP port nothing listens on right now, below the kernel's ephemeral range.

    Tests stop servers and start them again on the same port. A port from the ephemeral
    range (what binding to port 0 gives) may meanwhile become the local end of an outgoing
    connection, even one to itself (a client retrying that very port), and the restart
    fails; ports below the range are never given to outgoing connections.
    """
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, max(low, 20001))
        if port in _given:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    with socket.socket() as s:  # no room below the range: the kernel's choice
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """A ``pixserve serve`` process on a free port, logging to a file."""

    data_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    workers: int = 1
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"server-{self.port}.log"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        # Tests submit many jobs from one address: no per-client rate limit unless a test
        # sets one (tests/e2e/test_limits.py).
        env = {
            **os.environ,
            "PIXSERVE_DATA_DIR": str(self.data_dir),
            "PIXSERVE_RATE_LIMIT": "",
            **self.env,
        }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        args = ["serve", "--port", str(self.port), "--workers", str(self.workers)]
        self.proc = subprocess.Popen([*PIXSERVE, *args], env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"server not ready after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def terminate(self, timeout: float = 60.0) -> bool:
        """SIGTERM, wait, and say whether the process shut down gracefully.

        uvicorn re-raises the signal after its graceful shutdown, so the exit status is
        -SIGTERM either way; the log tells a clean shutdown from a crash.
        """
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        return code in (0, -signal.SIGTERM) and "Application shutdown complete" in self.log()


def wait_for_status(
    client: httpx.Client, job_id: str, wanted: set[str], timeout: float = 60.0
) -> dict:
    """Poll ``GET /v1/jobs/{id}`` until its status is one of ``wanted``."""
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        response = client.get(f"/v1/jobs/{job_id}")
        if response.status_code == 200:
            body = response.json()
            if body["status"] in wanted:
                return body
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {wanted}; last seen {body}")
