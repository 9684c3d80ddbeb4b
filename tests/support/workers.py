"""``pixserve worker`` processes for integration tests, started and killed like real ones."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.server import PIXSERVE


@dataclass
class WorkerProcess:
    """``pixserve worker --concurrency N [--styles …]``, logging to ``log_path``."""

    log_path: Path
    env: Mapping[str, str] = field(default_factory=dict)
    concurrency: int = 1
    styles: str = ""
    proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> WorkerProcess:
        """Start the process and wait until all its workers have logged that they started."""
        args = ["worker", "--concurrency", str(self.concurrency)]
        if self.styles:
            args += ["--styles", self.styles]
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [*PIXSERVE, *args], env={**os.environ, **self.env}, stdout=log, stderr=log
        )
        deadline = time.monotonic() + timeout
        while len(self.worker_ids()) < self.concurrency:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"workers not started after {timeout}s:\n{self.log()}")
            time.sleep(0.1)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def worker_ids(self) -> list[str]:
        """The ids of this process's workers, read from its log."""
        return re.findall(r"worker (\S+) started", self.log())

    def succeeded(self) -> list[str]:
        """Ids of the jobs this process's workers logged as succeeded."""
        return re.findall(r"job (\S+) succeeded", self.log())

    def kill(self) -> None:
        """SIGKILL: no cleanup, no hand-back."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait; the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)
