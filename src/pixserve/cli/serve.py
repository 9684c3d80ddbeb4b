"""``pixserve serve``: the web service, with in-process workers unless told otherwise."""

from __future__ import annotations

import click
import uvicorn

from pixserve.bootstrap import build_app, build_runtime
from pixserve.cli.options import friendly_errors
from pixserve.core.settings import get_settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="HOST")
@click.option("--port", default=8000, show_default=True, type=int, envvar="PORT")
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="In-process workers (default: PIXSERVE_WORKERS or 1); 0 serves the web only.",
)
@friendly_errors
def serve(host: str, port: int, workers: int | None) -> None:
    """Start the web service and its workers on the configured database and storage."""
    settings = get_settings()
    runtime = build_runtime(settings, workers=workers)
    app = build_app(runtime, workers=workers)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.secho(f"pixserve is starting: open http://{shown}:{port}/ in your browser", fg="green")
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=5,
        proxy_headers=True,
    )
