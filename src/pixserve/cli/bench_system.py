"""The whole system measured: ``pixserve bench e2e``, ``bench coldstart``, ``bench memory``.

Each starts real ``pixserve serve`` processes (a fresh data dir, a free port on 127.0.0.1,
the styles of ``PIXSERVE_STYLES_PATH``) and talks to them over HTTP with the standard
library, as a client would:

- **e2e**: ``--images`` jobs from ``--clients`` threads, each waiting for its result; jobs
  per second against the model alone (the same engine, the same size) in the same run, and
  the latency of status calls made while models run (is the event loop free?). It also
  counts the CPU time each job cost the server and the clients against the model's own:
  with every core busy, the cores divided by that cost is the most jobs per second the
  machine can do, so the ratio it allows is the ceiling of the measured one.
- **coldstart**: seconds from the process start to ``/readyz`` and to a first result, with
  an empty data dir and again with the one the first start left (compiled engines, remembered
  decisions, converted upscalers).
- **memory**: RSS of the server (web and its worker in one process) while it serves jobs of
  mixed sizes; flat means the last reading is within 5 % of the one after the first 50. Its
  anonymous part (the process's own memory) is reported beside it: the file-backed rest
  (libraries, mapped model blobs) counts only the pages the kernel happened to map, which
  depends on what the page cache holds, so two runs can differ by tens of MB there.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np
from PIL import Image

from pixserve.imaging.sample import sample_photo
from pixserve.inference.openvino import RELEASE_AFTER_IDLE_S

#: How often a waiting client asks for its job's status (the page polls about this often).
POLL = 0.5


def photo_jpeg(width: int, height: int) -> bytes:
    """The sample photo at ``width`` × ``height`` as a JPEG (quality 90)."""
    pixels = cv2.resize(sample_photo(), (width, height), interpolation=cv2.INTER_CUBIC)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90)
    return out.getvalue()


@dataclass
class Server:
    """A ``pixserve serve`` process; :meth:`start` returns once it answers ``/healthz``."""

    data_dir: Path
    workers: int = 1
    web_processes: int = 1
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self.port = self.port or _free_port()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "server.log").open("ab")
        # The bench is one client sending many photos: a visitor's rate limit would stop it.
        env = {**os.environ, "PIXSERVE_DATA_DIR": str(self.data_dir), "PIXSERVE_RATE_LIMIT": ""}
        cmd = [sys.executable, "-m", "pixserve.cli", "serve", "--port", str(self.port)]
        self.started = time.perf_counter()
        cmd += ["--workers", str(self.workers), "--web-processes", str(self.web_processes)]
        self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
        return self

    def wait(self, path: str, *, timeout: float = 300.0) -> float:
        """Seconds from the start until ``path`` answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                log = (self.data_dir / "server.log").read_text(errors="replace")
                raise RuntimeError(f"the server exited:\n{log[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=2) as answer:
                    if answer.status == 200:
                        return time.perf_counter() - self.started
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.02)
        raise RuntimeError(f"{path} did not answer 200 within {timeout:.0f} s")

    def rss_mb(self, field: str = "VmRSS") -> float:
        """The server process's resident memory now (MB); ``VmHWM``: its peak so far."""
        assert self.proc is not None
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(status.split(f"{field}:")[1].split()[0]) / 1024

    def cpu_seconds(self) -> float:
        """User and system CPU time of the server process so far, all its threads."""
        assert self.proc is not None
        return process_cpu_seconds(self.proc.pid)

    def forget_peak(self) -> float:
        """The peak so far (``VmHWM``, MB), then reset it so the next one counts from now."""
        assert self.proc is not None
        peak = self.rss_mb("VmHWM")
        Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")  # Linux: resets VmHWM
        return peak

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@contextmanager
def running(data_dir: Path, *, workers: int = 1, web_processes: int = 1) -> Iterator[Server]:
    server = Server(data_dir, workers, web_processes).start()
    try:
        server.wait("/readyz")
        yield server
    finally:
        server.stop()


def _post_photo(server: Server, path: str, style: str, image: bytes, *, timeout: float) -> Any:
    """POST ``image`` as a JPEG upload for ``style`` to ``path``; the open answer."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="style"\r\n\r\n{style}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + image
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        server.url + path,
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    return urllib.request.urlopen(request, timeout=timeout)


def submit(server: Server, style: str, image: bytes) -> str:
    """POST /v1/jobs; the job's id."""
    with _post_photo(server, "/v1/jobs", style, image, timeout=60) as answer:
        return str(json.load(answer)["id"])


def translate(server: Server, style: str, image: bytes) -> None:
    """Return once ``POST /v1/translate`` has the styled image: answered once the job is
    done (the server's watch hub wakes the call), with no polling interval in the figure
    and no status calls beside the model. A job that outlasts the call's wait is then
    followed by status calls."""
    with _post_photo(server, "/v1/translate", style, image, timeout=600) as answer:
        if answer.status == 200:
            answer.read()
            return
        job = str(json.load(answer)["id"])  # 202: past the server's translate wait
    wait_done(server, job, poll=0.02)


def status(server: Server, job: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{server.url}/v1/jobs/{job}", timeout=60) as answer:
        return dict(json.load(answer))


def wait_done(
    server: Server, job: str, *, timeout: float = 600.0, poll: float = POLL
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = status(server, job)
        if found["status"] in ("succeeded", "failed", "canceled", "expired"):
            if found["status"] != "succeeded":
                raise RuntimeError(f"job {job} {found['status']}: {found.get('error')}")
            return found
        time.sleep(poll)
    raise RuntimeError(f"job {job} did not finish within {timeout:.0f} s")


# --- e2e ------------------------------------------------------------------------------


def e2e(style: str, *, images: int, clients: int, size: int, workers: int) -> dict[str, Any]:
    """Jobs/s through the whole system, the model alone, and status latency under load.

    The model alone is timed before the server starts and again after it stops, and the
    two pooled: a host whose speed drifts during the run (a neighbour's load, a clock that
    changes) then moves both sides alike; ``model_ms_before`` and ``model_ms_after`` show
    how much it did.
    """
    image = photo_jpeg(size, size)
    runs = max(3, min(images, 10))
    # One data dir for both timings: the second finds the first's engine decision, where
    # a CPU that times engines (AVX512-BF16 without AMX) could otherwise pick another.
    alone = Path(tempfile.mkdtemp(prefix="pixserve-bench-"))
    try:
        before = model_only(style, size, runs=runs, data_dir=alone)
        run = _e2e_run(style, image, images=images, clients=clients, workers=workers)
        after = model_only(style, size, runs=runs, data_dir=alone)
    finally:
        shutil.rmtree(alone, ignore_errors=True)
    model = {
        "seconds": float(np.median([*before["times"], *after["times"]])),
        "cpu_seconds": (before["cpu_seconds"] + after["cpu_seconds"]) / 2,
        "engine": after["engine"],
    }
    p50, p99 = np.percentile(run.status_latencies, [50, 99]) * 1000
    cores = len(os.sched_getaffinity(0))
    job_cpu = (run.server_cpu + run.client_cpu) / images
    return {
        "style": style,
        "size": size,
        "images": images,
        "clients": clients,
        "workers": workers,
        "e2e_images_per_s": images / run.seconds,
        "model_images_per_s": 1 / model["seconds"],
        "engine": model["engine"],
        "ratio": images / run.seconds * model["seconds"],
        "status_p50_ms": float(p50),
        "status_p99_ms": float(p99),
        "cores": cores,
        # Claim to stored result, the mean over the run: against the model alone, what the
        # worker spends on each job besides the model (decoding, encoding, storage, database).
        "worker_ms_per_job": run.held_sum / run.held_count * 1000 if run.held_count else None,
        "model_ms_per_image": model["seconds"] * 1000,
        "model_ms_before": before["seconds"] * 1000,
        "model_ms_after": after["seconds"] * 1000,
        "server_cpu_ms_per_job": run.server_cpu / images * 1000,
        "client_cpu_ms_per_job": run.client_cpu / images * 1000,
        "model_cpu_ms_per_image": model["cpu_seconds"] * 1000,
        # Every core busy, nothing else running: the most this machine could do.
        "ratio_ceiling": cores / job_cpu * model["seconds"] if job_cpu > 0 else None,
    }


class _Run(NamedTuple):
    """What one e2e run through a server measured."""

    seconds: float
    server_cpu: float
    client_cpu: float
    held_sum: float  # run-time histogram (/metrics): the run's jobs' seconds and count
    held_count: int
    status_latencies: list[float]


def _e2e_run(style: str, image: bytes, *, images: int, clients: int, workers: int) -> _Run:
    """``images`` jobs of ``image`` from ``clients`` clients through a fresh server."""
    with (
        tempfile.TemporaryDirectory(prefix="pixserve-bench-") as tmp,
        running(Path(tmp), workers=workers) as server,
    ):
        wait_done(server, submit(server, style, image))  # compile/warm this shape first
        probe_latencies: list[float] = []
        stop = threading.Event()
        probe_job = submit(server, style, image)
        wait_done(server, probe_job)

        def probe() -> None:  # a watcher polling while the models run
            while not stop.is_set():
                start = time.perf_counter()
                status(server, probe_job)
                probe_latencies.append(time.perf_counter() - start)
                time.sleep(0.1)

        watcher = threading.Thread(target=probe, daemon=True)
        watcher.start()
        held_before = run_seconds(server, style)
        start, server_cpu, client_cpu = time.perf_counter(), server.cpu_seconds(), _own_cpu()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(lambda _: wait_done(server, submit(server, style, image)), range(images)))
        seconds = time.perf_counter() - start
        server_cpu, client_cpu = server.cpu_seconds() - server_cpu, _own_cpu() - client_cpu
        held_sum, held_count = run_seconds(server, style)
        stop.set()
        watcher.join()
    return _Run(
        seconds,
        server_cpu,
        client_cpu,
        held_sum - held_before[0],
        held_count - held_before[1],
        probe_latencies,
    )


def run_seconds(server: Server, style: str) -> tuple[float, int]:
    """The sum and count of ``style``'s job run times so far (``/metrics``: started to
    finished, successes only)."""
    with urllib.request.urlopen(server.url + "/metrics", timeout=60) as answer:
        text = answer.read().decode()
    label = f'style="{style}"'
    found = {"sum": 0.0, "count": 0.0}
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        for field in found:
            if name.startswith(f"pixserve_job_run_seconds_{field}{{") and label in name:
                found[field] += float(value)
    return found["sum"], int(found["count"])


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of process ``pid``, all its threads (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    """This process's CPU seconds so far: the clients' threads, during ``e2e``."""
    return process_cpu_seconds(os.getpid())


def model_only(style: str, size: int, *, runs: int, data_dir: Path) -> dict[str, Any]:
    """Seconds per image of ``style``'s whole pipeline in this process (same engine policy),
    with ``data_dir`` for its engine decisions."""
    from pixserve.bootstrap import build_runtime
    from pixserve.core.settings import get_settings

    settings = get_settings().model_copy(update={"data_dir": data_dir})
    runtime = build_runtime(settings, warm=False)
    try:
        pixels = cv2.resize(sample_photo(), (size, size), interpolation=cv2.INTER_CUBIC)
        pipeline = runtime.renderer.pipeline(style)
        pipeline.run(pixels)
        times, cpu = [], time.process_time()
        for _ in range(runs):
            start = time.perf_counter()
            pipeline.run(pixels)
            times.append(time.perf_counter() - start)
        cpu = time.process_time() - cpu
        engine = pipeline.engine
        return {
            "seconds": float(np.median(times)),
            "times": times,
            "cpu_seconds": cpu / runs,
            "engine": str(engine.spec) if engine else "operator",
        }
    finally:
        runtime.close()


# --- coldstart ------------------------------------------------------------------------


def coldstart(style: str, *, size: int) -> list[dict[str, Any]]:
    """Ready and first-result times of a cold start and of a restart on the same data dir."""
    image = photo_jpeg(size, size)
    rows = []
    with tempfile.TemporaryDirectory(prefix="pixserve-bench-") as tmp:
        for start in ("empty data dir", "restart"):
            server = Server(Path(tmp)).start()
            try:
                ready = server.wait("/readyz")
                translate(server, style, image)
                first = time.perf_counter() - server.started
                rows.append({"start": start, "ready_s": ready, "first_result_s": first})
            finally:
                server.stop()
    return rows


# --- memory ---------------------------------------------------------------------------


def memory(style: str, *, images: int, low: int, high: int) -> dict[str, Any]:
    """Server RSS over ``images`` jobs of sizes between ``low`` and ``high`` px.

    Measured as a server runs day to day: restarted on the data dir its first start left
    (engines decided, compiled blobs cached). A first start also loads what it only needs
    to time and check the engines; its RSS at ready is reported beside. The high-water mark
    is reset once the restarted server is ready, so it is the peak while serving.
    """
    rng = np.random.default_rng(0)
    readings: list[tuple[int, float]] = []
    anon: list[tuple[int, float]] = []
    with tempfile.TemporaryDirectory(prefix="pixserve-bench-") as tmp:
        with running(Path(tmp)) as first:
            first_start_mb = first.rss_mb()
        with running(Path(tmp)) as server:
            server.forget_peak()
            readings.append((0, server.rss_mb()))
            anon.append((0, server.rss_mb("RssAnon")))
            with _sampling(server, "RssAnon") as anon_peak:
                for i in range(1, images + 1):
                    w, h = (int(v) for v in rng.integers(low, high + 1, 2))
                    wait_done(server, submit(server, style, photo_jpeg(w, h)))
                    if i % 10 == 0 or i == images:
                        readings.append((i, server.rss_mb()))
                        anon.append((i, server.rss_mb("RssAnon")))
            # An engine keeps its activations while jobs keep coming and gives them back
            # once idle: what a server holds between bursts.
            time.sleep(RELEASE_AFTER_IDLE_S + 1.0)
            idle = (server.rss_mb(), server.rss_mb("RssAnon"))
            # The peak while a photo was being rendered. Read last: the kernel folds the
            # current RSS into the mark as it is read, so it is never below the idle figure
            # (read before it, a page or two touched while idle could pass it).
            high_water = server.rss_mb("VmHWM")
        shutil.rmtree(Path(tmp) / "blobs", ignore_errors=True)
    after_50 = next((mb for i, mb in readings if i >= 50), readings[-1][1])
    last = readings[-1][1]
    return {
        "style": style,
        "images": images,
        "sizes": [low, high],
        "readings": readings,
        "peak_mb": max(mb for _, mb in readings),
        "high_water_mb": high_water,
        "first_start_mb": first_start_mb,
        "after_50_mb": after_50,
        "last_mb": last,
        "flat": last <= after_50 * 1.05,
        "anon_readings": anon,
        "anon_peak_mb": max(anon_peak[0], max(mb for _, mb in anon)),
        "idle_mb": idle[0],
        "idle_anon_mb": idle[1],
        "idle_after_s": RELEASE_AFTER_IDLE_S + 1.0,
    }


@contextmanager
def _sampling(server: Server, field: str, every: float = 0.02) -> Iterator[list[float]]:
    """The largest ``field`` of ``server``'s ``/proc`` status seen every ``every`` s (the
    kernel keeps a high-water mark of the whole RSS only)."""
    peak, stop = [0.0], threading.Event()

    def sample() -> None:
        while not stop.wait(every):
            try:
                peak[0] = max(peak[0], server.rss_mb(field))
            except (OSError, IndexError):  # the process has just ended
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        stop.set()
        sampler.join()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
