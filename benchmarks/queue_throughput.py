"""Queue throughput and wake-up latency of the job stores, with a no-op style.

    .venv/bin/python benchmarks/queue_throughput.py                     # PostgreSQL and SQLite
    .venv/bin/python benchmarks/queue_throughput.py --backends postgres --workers 16 --jobs 20000

Throughput: ``--jobs`` queued jobs, then 1, 4 and 16 workers each loop ``claim`` (of
``--batch`` jobs) + ``succeed`` (the no-op style: no image, no storage) until the queue is
empty; the figure is claim+finish cycles (jobs) per second over the whole drain.
``--mode processes`` (the default) runs every worker in its own OS process with its own
store, like ``pixserve worker`` processes; ``--mode threads`` runs them as threads over one
store, like ``pixserve worker --concurrency N``.

Latency: one idle worker waits exactly as ``Worker.run`` does (on the store's wake-up event,
with the poll interval as fallback) on a store of its own, so on PostgreSQL the wake-up comes
through ``LISTEN/NOTIFY``; jobs are enqueued one at a time through another store, and the
time from the start of ``enqueue`` to the end of the ``claim`` that took the job is recorded.
SQLite has no notifications between processes (or store instances), so there the figure is
the poll interval; inside one ``pixserve serve`` process the store wakes its workers itself.

PostgreSQL runs get a fresh database on the server of ``--postgres-url`` (dropped afterwards).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support.postgres import ADMIN_URL, create_database, drop_database

from pixserve.core.errors import Unavailable
from pixserve.domain import NewJob
from pixserve.queue import SqlJobStore, upgrade

LEASE = 300.0
POLL = 0.5


def drain(url: str, worker_id: str, batch: int, start: Any, done: Any) -> None:
    """Say ``ready`` on ``done``, wait for ``start``, then claim and succeed until the queue is
    empty and put the number of cycles on ``done``."""
    store = SqlJobStore(url)
    store.ping()  # connect before the clock starts
    done.put("ready")
    start.wait()
    cycles = busy = 0
    while True:
        try:
            claimed = store.claim(worker_id, lease_seconds=LEASE, limit=batch)
            if not claimed:
                break
            for job in claimed:
                while True:
                    try:
                        store.succeed(job.id, worker_id, result_key="r", content_type="image/png")
                        break
                    except Unavailable:  # SQLite's busy timeout ran out: wait, as workers do
                        busy += 1
                        time.sleep(0.05)
                cycles += 1
        except Unavailable:
            busy += 1
            time.sleep(0.05)
    store.close()
    done.put((cycles, busy))


def throughput(url: str, workers: int, jobs: int, mode: str, batch: int) -> float:
    """Cycles per second with ``workers`` draining ``jobs`` queued jobs."""
    store = SqlJobStore(url)
    for i in range(jobs):
        store.enqueue(NewJob(style="noop", input_key=f"in/{i}"))
    if url.startswith("postgresql"):
        # Give the planner statistics, as autovacuum does for any table in service.
        with store._engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE jobs")
    store.close()
    runner: Callable[..., Any]
    if mode == "processes":
        ctx = multiprocessing.get_context("spawn")
        start, done = ctx.Event(), ctx.Queue()
        runner = ctx.Process
    else:
        import queue

        start, done = threading.Event(), queue.Queue()
        runner = threading.Thread
    units = [runner(target=drain, args=(url, f"w{n}", batch, start, done)) for n in range(workers)]
    for unit in units:
        unit.start()
    # Start the clock once every worker has imported pixserve and connected: on 2 cores, 16
    # fresh interpreters take seconds to start, and that is not the queue's time.
    for _ in units:
        assert done.get(timeout=120) == "ready"
    began = time.perf_counter()
    start.set()
    results = [done.get(timeout=600) for _ in units]
    elapsed = time.perf_counter() - began
    for unit in units:
        unit.join()
    total, busy = sum(c for c, _ in results), sum(b for _, b in results)
    assert total == jobs, f"{total} cycles for {jobs} jobs"
    if busy:
        print(f"  ({busy} claims or finishes hit 'database unavailable' and were retried)")
    return total / elapsed


def latency(url: str, samples: int) -> list[float]:
    """Seconds from enqueue to claim, for an idle worker woken by the store."""
    worker_store, client_store = SqlJobStore(url), SqlJobStore(url)
    wake, stop = threading.Event(), threading.Event()
    claimed_at: dict[str, float] = {}
    got = threading.Condition()
    unwatch = worker_store.watch(wake)

    def idle_worker() -> None:
        while not stop.is_set():
            wake.clear()
            jobs = worker_store.claim("idle", lease_seconds=LEASE)
            now = time.perf_counter()
            for job in jobs:
                worker_store.succeed(job.id, "idle", result_key="r", content_type="image/png")
                with got:
                    claimed_at[job.id] = now
                    got.notify_all()
            if not jobs:
                wake.wait(POLL)

    thread = threading.Thread(target=idle_worker, daemon=True)
    thread.start()
    time.sleep(1.0)  # the LISTEN connection is up, the worker is asleep
    results = []
    for i in range(samples):
        time.sleep(0.02)  # idle again
        began = time.perf_counter()
        job = client_store.enqueue(NewJob(style="noop", input_key=f"lat/{i}"))
        with got:
            got.wait_for(lambda job_id=job.id: job_id in claimed_at, timeout=10)
        results.append(claimed_at[job.id] - began)
    stop.set()
    wake.set()
    thread.join()
    unwatch()
    worker_store.close()
    client_store.close()
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


class Database:
    """A fresh, migrated database of one backend, removed on exit."""

    def __init__(self, backend: str, postgres_url: str) -> None:
        self.backend, self.postgres_url = backend, postgres_url
        self.tmp = tempfile.TemporaryDirectory(prefix="pixserve-bench-")

    def __enter__(self) -> str:
        if self.backend == "postgres":
            self.url = create_database(self.postgres_url)
        else:
            self.url = f"sqlite:///{self.tmp.name}/jobs.db"
        upgrade(self.url)
        return self.url

    def __exit__(self, *exc: object) -> None:
        if self.backend == "postgres":
            drop_database(self.url, self.postgres_url)
        self.tmp.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--workers", default="1,4,16")
    parser.add_argument("--jobs", type=int, default=5000, help="jobs per throughput run")
    parser.add_argument("--mode", choices=["processes", "threads"], default="processes")
    parser.add_argument("--batch", type=int, default=1, help="jobs per claim (one style)")
    parser.add_argument("--latency-samples", type=int, default=300)
    parser.add_argument("--postgres-url", default=ADMIN_URL)
    args = parser.parse_args()

    print(f"{args.jobs} no-op jobs per run, workers as {args.mode}, {args.batch} per claim")
    for backend in args.backends.split(","):
        for workers in [int(w) for w in args.workers.split(",")]:
            with Database(backend, args.postgres_url) as url:
                rate = throughput(url, workers, args.jobs, args.mode, args.batch)
            print(f"{backend:9s} {workers:3d} workers: {rate:8.0f} claim+finish cycles/s")
        if args.latency_samples:
            with Database(backend, args.postgres_url) as url:
                lat = latency(url, args.latency_samples)
            print(
                f"{backend:9s} enqueue→claim, idle worker: "
                f"p50 {percentile(lat, 0.5) * 1000:.1f} ms, "
                f"p99 {percentile(lat, 0.99) * 1000:.1f} ms, "
                f"max {max(lat) * 1000:.1f} ms ({len(lat)} samples)"
            )


if __name__ == "__main__":
    main()
