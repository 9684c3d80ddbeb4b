"""``pixserve serve``: the web service, with in-process workers unless told otherwise.

With ``--web-processes N`` (N > 1) uvicorn runs N web processes that share the listening
socket, so every core answers HTTP; each builds its own app through :func:`web_app` and runs
no job workers. The job workers run in the parent process instead (beside uvicorn's
supervisor, which restarts a web process that dies), so there is still exactly one set of
workers. SQLite in WAL mode serves several processes: readers never block the writer, and
writers queue behind the busy timeout.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click
import uvicorn

from pixserve.bootstrap import build_app, build_pool, build_runtime
from pixserve.cli.options import friendly_errors
from pixserve.core import logs
from pixserve.core.settings import get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI


def web_app() -> FastAPI:
    """One web process of ``serve --web-processes N``: the app over its own stores, with
    no job workers (the parent runs them). uvicorn calls it in each process it starts."""
    runtime = build_runtime(get_settings(), workers=0)
    return build_app(runtime, workers=0)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="HOST")
@click.option("--port", default=8000, show_default=True, type=int, envvar="PORT")
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="In-process workers (default: PIXSERVE_WORKERS or 1); 0 serves the web only.",
)
@click.option(
    "--web-processes",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    envvar="PIXSERVE_WEB_PROCESSES",
    help="Web processes sharing the port (one per core answers more status calls); the "
    "job workers then run in the parent process.",
)
@friendly_errors
def serve(host: str, port: int, workers: int | None, web_processes: int) -> None:
    """Start the web service and its workers on the configured database and storage."""
    settings = get_settings()
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    options: dict[str, object] = {
        "host": host,
        "port": port,
        "log_level": "info",
        "timeout_graceful_shutdown": 5,
        "proxy_headers": True,
        # Through core/logs.py in every web process: text or JSON, with request ids.
        "log_config": logs.log_config(logging.getLogger().getEffectiveLevel()),
    }
    if web_processes == 1:
        # The models warm while the web app is imported and built.
        runtime = build_runtime(settings, workers=workers, background=True)
        app = build_app(runtime, workers=workers)
        click.secho(
            f"pixserve is starting: open http://{shown}:{port}/ in your browser", fg="green"
        )
        uvicorn.run(app, **options)  # type: ignore[arg-type]
        return

    size = settings.workers if workers is None else workers
    # Built before the web processes start: the schema is migrated and the service secret
    # written once, here, not raced by N processes.
    runtime = build_runtime(settings, workers=size, warm=size > 0)
    pool = build_pool(runtime, size) if size > 0 else None
    click.secho(
        f"pixserve is starting {web_processes} web processes and {size} worker(s): "
        f"open http://{shown}:{port}/ in your browser",
        fg="green",
    )
    if settings.rate_limit.strip() and settings.rate_limit_storage.startswith("memory"):
        click.secho(
            f"warning: each of the {web_processes} web processes counts PIXSERVE_RATE_LIMIT "
            "on its own, so a client may send up to "
            f"{web_processes}× as many; share one count with "
            "PIXSERVE_RATE_LIMIT_STORAGE=redis://…",
            fg="yellow",
            err=True,
        )
    if pool is not None:
        pool.start()
    try:
        uvicorn.run(
            "pixserve.cli.serve:web_app",
            factory=True,
            workers=web_processes,
            **options,  # type: ignore[arg-type]
        )
    finally:
        if pool is not None:
            pool.stop()
        runtime.close()
