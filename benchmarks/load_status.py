"""Load from a second process on loopback: a crowd polling its jobs, uploads, SSE watchers.

    .venv/bin/python benchmarks/load_status.py --url http://127.0.0.1:8000 \\
        --clients 1000 --rate 1 --uploads 5 --style pencil --duration 60
    .venv/bin/python benchmarks/load_status.py --url http://127.0.0.1:8000 \\
        --clients 0 --watchers 1000 --uploads 5 --style pencil --duration 60

Against a server you started (``pixserve serve``, any number of web processes), this holds
``--clients`` concurrent clients, each on its own connection, each asking ``GET
/v1/jobs/{id}`` ``--rate`` times per second for one of the recent jobs, while ``--uploads``
photos per second of ``--style`` are submitted; with ``--watchers`` it also holds that many
open server-sent-events streams (``/v1/jobs/{id}/events``), each reopened on a newer job
when its job ends. After ``--duration`` seconds it prints the requests made, the errors
(non-2xx answers, timeouts, broken connections) and the p50/p99 latency of the status calls,
and for the watchers the events received and the errors, then one JSON line of the same.

A client that falls behind does not burst to catch up: each waits for its next slot, so the
rate offered is at most ``clients × rate`` and the rate achieved is printed beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import resource
import statistics
import time
from dataclasses import dataclass, field

import aiohttp
import numpy as np
from PIL import Image


@dataclass
class Tally:
    """What one kind of call saw."""

    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def summary(self) -> dict[str, object]:
        lat = sorted(self.latencies)

        def pct(p: float) -> float | None:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 1) if lat else None

        return {
            "requests": len(lat) + self.error_count,
            "ok": len(lat),
            "errors": self.error_count,
            "error_kinds": self.errors,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "max_ms": round(lat[-1] * 1000, 1) if lat else None,
            "mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else None,
        }


@dataclass
class Watching:
    """What the SSE watchers saw."""

    events: int = 0
    keepalives: int = 0
    streams_ended: int = 0
    open_now: int = 0
    open_max: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


def photo(side: int, seed: int) -> bytes:
    """A small JPEG that decodes and crops like a photo (noise over a gradient)."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 255, side, dtype=np.float32)
    base = np.stack([ramp[None, :].repeat(side, 0), ramp[:, None].repeat(side, 1)] * 2, -1)[..., :3]
    pixels = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def raise_fd_limit() -> int:
    """Lift the soft limit on open files to the hard one (a thousand sockets need it)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Load:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.url = args.url.rstrip("/")
        self.ids: list[str] = []
        self.status = Tally()
        self.uploads = Tally()
        self.watching = Watching()
        self.images = [photo(args.side, seed) for seed in range(8)]
        self.timeout = aiohttp.ClientTimeout(total=args.timeout)
        self.end = 0.0

    def recent(self) -> str:
        return random.choice(self.ids[-self.args.recent :])

    async def upload(self, session: aiohttp.ClientSession) -> None:
        form = aiohttp.FormData()
        form.add_field("file", random.choice(self.images), filename="p.jpg")
        form.add_field("style", self.args.style)
        start = time.perf_counter()
        try:
            async with session.post(f"{self.url}/v1/jobs", data=form) as response:
                body = await response.read()
                if response.status != 202:
                    self.uploads.error(f"http_{response.status}")
                    return
                self.uploads.latencies.append(time.perf_counter() - start)
                self.ids.append(json.loads(body)["id"])
        except TimeoutError:
            self.uploads.error("timeout")
        except aiohttp.ClientError as exc:
            self.uploads.error(type(exc).__name__)

    async def uploader(self) -> None:
        if self.args.uploads <= 0:
            return
        period = 1.0 / self.args.uploads
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            tasks = set()
            next_at = time.monotonic()
            while next_at < self.end:
                task = asyncio.create_task(self.upload(session))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                next_at += period
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if tasks:
                await asyncio.wait(tasks, timeout=self.args.timeout)

    async def client(self, index: int) -> None:
        """One person: one connection, a status call every 1/rate seconds."""
        period = 1.0 / self.args.rate
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector, timeout=self.timeout) as session:
            next_at = time.monotonic() + random.random() * period  # spread the crowd
            while True:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                if time.monotonic() >= self.end:
                    return
                start = time.perf_counter()
                try:
                    async with session.get(f"{self.url}/v1/jobs/{self.recent()}") as response:
                        await response.read()
                        if response.status == 200:
                            self.status.latencies.append(time.perf_counter() - start)
                        else:
                            self.status.error(f"http_{response.status}")
                except TimeoutError:
                    self.status.error("timeout")
                except aiohttp.ClientError as exc:
                    self.status.error(type(exc).__name__)
                next_at = max(next_at + period, time.monotonic())

    async def watcher(self, index: int) -> None:
        """One open events stream at a time, reopened on a newer job when its job ends."""
        timeout = aiohttp.ClientTimeout(total=None, sock_read=self.args.timeout + 15)
        connector = aiohttp.TCPConnector(limit=1)
        w = self.watching
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            await asyncio.sleep(random.random())
            while time.monotonic() < self.end:
                try:
                    newest = self.ids[-1 - index % min(len(self.ids), self.args.recent)]
                    url = f"{self.url}/v1/jobs/{newest}/events"
                    async with session.get(url) as response:
                        if response.status != 200:
                            w.error(f"http_{response.status}")
                            await asyncio.sleep(1)
                            continue
                        w.open_now += 1
                        w.open_max = max(w.open_max, w.open_now)
                        try:
                            async for line in response.content:
                                if line.startswith(b"event: status"):
                                    w.events += 1
                                elif line.startswith(b"event: error"):
                                    w.error("event_error")
                                elif line.startswith(b": keep-alive"):
                                    w.keepalives += 1
                                if time.monotonic() >= self.end:
                                    return
                            w.streams_ended += 1
                            await asyncio.sleep(1)  # let newer jobs arrive before reopening
                        finally:
                            w.open_now -= 1
                except TimeoutError:
                    w.error("timeout")
                except aiohttp.ClientError as exc:
                    w.error(type(exc).__name__)
                    await asyncio.sleep(1)

    async def seed(self) -> None:
        async with aiohttp.ClientSession(timeout=self.timeout) as session:
            for _ in range(self.args.seed_jobs):
                await self.upload(session)
        if not self.ids:
            raise SystemExit(f"could not submit a single job to {self.url}: {self.uploads.errors}")
        self.uploads = Tally()  # seeding is not part of the measurement

    async def run(self) -> dict[str, object]:
        await self.seed()
        started = time.monotonic()
        self.end = started + self.args.duration
        tasks = [asyncio.create_task(self.uploader())]
        tasks += [asyncio.create_task(self.client(i)) for i in range(self.args.clients)]
        tasks += [asyncio.create_task(self.watcher(i)) for i in range(self.args.watchers)]
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - started
        status = self.status.summary()
        return {
            "url": self.url,
            "clients": self.args.clients,
            "rate_per_client": self.args.rate,
            "uploads_per_s": self.args.uploads,
            "style": self.args.style,
            "duration_s": round(elapsed, 1),
            "status": status,
            "status_per_s": round(int(status["requests"]) / elapsed, 1),  # type: ignore[call-overload]
            "uploads": self.uploads.summary(),
            "watchers": {"held": self.args.watchers, **vars(self.watching)}
            if self.args.watchers
            else None,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=1.0, help="Status calls per client per s.")
    parser.add_argument("--uploads", type=float, default=5.0, help="Uploads per second.")
    parser.add_argument("--style", default="pencil")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--watchers", type=int, default=0, help="Open SSE streams to hold.")
    parser.add_argument("--side", type=int, default=256, help="Side of the uploaded photos.")
    parser.add_argument("--seed-jobs", type=int, default=20)
    parser.add_argument("--recent", type=int, default=200, help="Poll among the newest N jobs.")
    parser.add_argument("--timeout", type=float, default=10.0, help="Per request, seconds.")
    args = parser.parse_args()
    raise_fd_limit()
    report = asyncio.run(Load(args).run())
    status = report["status"]
    assert isinstance(status, dict)
    print(
        f"status calls: {status['requests']} ({report['status_per_s']}/s offered "
        f"{args.clients * args.rate:g}/s), errors {status['errors']} {status['error_kinds']}, "
        f"p50 {status['p50_ms']} ms, p99 {status['p99_ms']} ms, max {status['max_ms']} ms"
    )
    uploads = report["uploads"]
    assert isinstance(uploads, dict)
    print(
        f"uploads: {uploads['requests']}, errors {uploads['errors']} {uploads['error_kinds']}, "
        f"p50 {uploads['p50_ms']} ms, p99 {uploads['p99_ms']} ms"
    )
    if report["watchers"]:
        print(f"watchers: {report['watchers']}")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
