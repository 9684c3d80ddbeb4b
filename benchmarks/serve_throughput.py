"""Jobs through a real ``pixserve serve`` process: submit latency and end-to-end throughput.

    .venv/bin/python benchmarks/serve_throughput.py --jobs 60 --clients 8 --workers 2

Starts a server on a free port with a fresh data dir, submits ``--jobs`` photos from
``--clients`` concurrent clients, waits until every job is finished, and prints submit
latency percentiles and jobs per second. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support.server import ServerProcess


def photo_jpeg(side: int) -> bytes:
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).resize((side, side)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--style", default="pencil")
    parser.add_argument("--side", type=int, default=768)
    args = parser.parse_args()

    body = photo_jpeg(args.side)
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp), workers=args.workers).start()
        try:
            with httpx.Client(base_url=server.url, timeout=60) as client:

                def submit(_: int) -> tuple[str, float]:
                    start = time.perf_counter()
                    response = client.post(
                        "/v1/jobs", files={"file": ("p.jpg", body)}, data={"style": args.style}
                    )
                    response.raise_for_status()
                    return response.json()["id"], time.perf_counter() - start

                began = time.perf_counter()
                with ThreadPoolExecutor(args.clients) as pool:
                    submitted = list(pool.map(submit, range(args.jobs)))
                accepted = time.perf_counter() - began
                pending = {job_id for job_id, _ in submitted}
                statuses: dict[str, str] = {}
                while pending:
                    for job_id in list(pending):
                        status = client.get(f"/v1/jobs/{job_id}").json()["status"]
                        if status in ("succeeded", "failed", "canceled", "expired"):
                            statuses[job_id] = status
                            pending.discard(job_id)
                    time.sleep(0.2)
                elapsed = time.perf_counter() - began
        finally:
            server.terminate()

    latencies = [seconds for _, seconds in submitted]
    ok = sum(1 for s in statuses.values() if s == "succeeded")
    print(
        f"{args.jobs} jobs, style {args.style}, {args.side}px, {args.clients} clients, "
        f"{args.workers} in-process workers"
    )
    print(
        f"submit latency  p50 {statistics.median(latencies) * 1000:.0f} ms  "
        f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms  (all accepted in {accepted:.1f} s)"
    )
    print(
        f"finished {ok}/{args.jobs} succeeded in {elapsed:.1f} s: "
        f"{ok / elapsed:.2f} jobs/s = {3600 * ok / elapsed:,.0f} jobs/h"
    )


if __name__ == "__main__":
    main()
