"""The load half of ``make soak``: a crowd polling and a crowd watching a real ``pixserve serve``.

    .venv/bin/python benchmarks/soak.py [--duration 60] [--clients 1000] [--watchers 1000]

Starts ``pixserve serve --web-processes 2 --workers 1`` (SQLite, no rate limit: every client
comes from 127.0.0.1) on a fresh data dir and a free port, then runs
``benchmarks/load_status.py`` against it twice, each time in its own process:

1. polling: ``--clients`` clients each asking ``GET /v1/jobs/{id}`` once per second, plus
   ``--uploads`` photos per second of ``--style``, for ``--duration`` seconds;
2. watching: ``--watchers`` open ``/v1/jobs/{id}/events`` streams, plus the same uploads.

It prints load_status's own lines for each run, then one Markdown row per run (the figures
docs/reliability.md quotes), and exits 1 if a run saw an error or held fewer streams than
asked. ``--keep`` keeps the data dir and the server's log.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pixserve.cli.bench_system import running

HERE = Path(__file__).resolve().parent


def load(url: str, args: argparse.Namespace, *, clients: int, watchers: int) -> dict:
    """One run of load_status.py; its report (the last line it prints)."""
    command = [
        sys.executable,
        str(HERE / "load_status.py"),
        "--url",
        url,
        "--clients",
        str(clients),
        "--rate",
        "1",
        "--watchers",
        str(watchers),
        "--uploads",
        str(args.uploads),
        "--style",
        args.style,
        "--duration",
        str(args.duration),
    ]
    print("$", " ".join(command[1:]), flush=True)
    done = subprocess.run(command, capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    for line in lines[:-1]:
        print("  " + line)
    if done.returncode != 0 or not lines:
        print(done.stderr, file=sys.stderr)
        raise SystemExit(f"load_status.py failed ({done.returncode})")
    return dict(json.loads(lines[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="Seconds per run.")
    parser.add_argument("--clients", type=int, default=1000, help="Polling clients (1/s each).")
    parser.add_argument("--watchers", type=int, default=1000, help="Open event streams.")
    parser.add_argument("--uploads", type=float, default=5.0, help="Uploads per second.")
    parser.add_argument("--style", default="pencil")
    parser.add_argument("--web-processes", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="Keep the data dir and its log.")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="pixserve-soak-"))
    started = time.monotonic()
    try:
        with running(data_dir, web_processes=args.web_processes) as server:
            web = f"--web-processes {args.web_processes}"
            print(f"pixserve serve {web} --workers 1 at {server.url}")
            polling = load(server.url, args, clients=args.clients, watchers=0)
            watching = load(server.url, args, clients=0, watchers=args.watchers)
    finally:
        if args.keep:
            print(f"data dir and server.log kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)

    seconds = f"{args.duration:g} s, {args.uploads:g} uploads/s of `{args.style}`"
    status, uploads = polling["status"], polling["uploads"]
    print()
    print(f"| load ({seconds}) | calls (calls/s) | errors | p50 | p99 | uploads (errors) |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {args.clients:,} clients × 1/s | {status['requests']:,} "
        f"({polling['status_per_s']:g}/s) | {status['errors']} | {status['p50_ms']} ms "
        f"| {status['p99_ms']} ms | {uploads['requests']} ({uploads['errors']}) |"
    )
    held = watching["watchers"]
    w_uploads = watching["uploads"]
    w_errors = sum(held["errors"].values())
    print(
        f"| {args.watchers:,} watchers | {held['open_max']:,} held at most, "
        f"{held['events']:,} events, {held['streams_ended']:,} streams ended with their job "
        f"| {w_errors} | — | — | {w_uploads['requests']} ({w_uploads['errors']}) |"
    )
    print(f"\nsoak load: {time.monotonic() - started:.0f} s in all")

    failures = []
    if status["errors"] or uploads["errors"]:
        failures.append(f"polling: {status['error_kinds']} {uploads['error_kinds']}")
    if w_errors or w_uploads["errors"]:
        failures.append(f"watching: {held['errors']} {w_uploads['error_kinds']}")
    if held["open_max"] < args.watchers:
        failures.append(f"watching: held {held['open_max']} of {args.watchers} streams")
    for failure in failures:
        print("FAILED", failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
