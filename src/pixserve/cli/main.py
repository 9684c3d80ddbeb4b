"""The ``pixserve`` command."""

from __future__ import annotations

import logging
import sys

import click

import pixserve
from pixserve.cli import bench, dataset, db, export, import_, run, serve, styles, train, worker
from pixserve.cli.cleanup import cleanup
from pixserve.cli.client import client
from pixserve.cli.reconcile import reconcile
from pixserve.core import logs
from pixserve.core.errors import PixserveError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(pixserve.__version__, prog_name="pixserve")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def cli(verbose: bool) -> None:
    """Serve image-to-image styles as a web service, or run them on files."""
    # Text or JSON lines with request and job ids (PIXSERVE_LOG_FORMAT, core/logs.py).
    try:
        logs.configure(logging.DEBUG if verbose else logging.INFO)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


for command in (serve.serve, worker.worker, run.run, styles.styles, db.db, import_.import_):
    cli.add_command(command)

for command in (cleanup, reconcile, dataset.dataset, train.train, export.export, bench.bench):
    cli.add_command(command)

cli.add_command(client)  # the HTTP API's client, with a progress bar


def main() -> None:
    """Entry point of the ``pixserve`` script: a pixserve error is one line, not a traceback."""
    try:
        cli()
    except PixserveError as exc:
        click.secho(f"error: {exc.message} ({exc.code})", fg="red", err=True)
        sys.exit(1)
