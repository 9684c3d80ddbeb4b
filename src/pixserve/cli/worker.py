"""``pixserve worker``: a process that only runs jobs from the shared queue."""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType

import click

from pixserve.bootstrap import build_pool, build_runtime
from pixserve.cli.options import friendly_errors
from pixserve.core.settings import get_settings


@click.command()
@click.option("--concurrency", "-c", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--styles", default="", help="Only run these styles (comma-separated).")
@friendly_errors
def worker(concurrency: int, styles: str) -> None:
    """Run jobs until SIGTERM/SIGINT; a second signal hands running jobs back at once."""
    settings = get_settings()
    runtime = build_runtime(settings, workers=concurrency)
    wanted = [s.strip() for s in styles.split(",") if s.strip()]
    for name in wanted:
        runtime.catalog.get(name)  # unknown_style now, not silence later
    pool = build_pool(runtime, concurrency, styles=wanted or None)
    stopping = threading.Event()
    hurry = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():
            hurry.set()
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    pool.start()
    click.echo(f"pixserve worker: {concurrency} worker(s) on {', '.join(wanted) or 'all styles'}")
    stopping.wait()
    click.echo("stopping: finishing running jobs (signal again to hand them back now)")
    pool.request_stop()
    # Leave as soon as the running jobs are done (idle workers stop at once), at the end of
    # the grace period, or on a second signal; whatever still runs then is handed back.
    deadline = time.monotonic() + settings.shutdown_grace_seconds
    while pool.alive and time.monotonic() < deadline and not hurry.wait(0.1):
        pass
    pool.stop(grace_seconds=0 if hurry.is_set() else 1)
    runtime.close()
