"""The ``pixserve`` command."""

from __future__ import annotations

import importlib
import logging
import sys

import click

import pixserve
from pixserve.core import logs
from pixserve.core.errors import PixserveError

#: Each command and where it lives (``module:attribute`` under ``pixserve.cli``), in the
#: order ``pixserve --help`` lists them.
COMMANDS = {
    "serve": "serve:serve",
    "worker": "worker:worker",
    "run": "run:run",
    "styles": "styles:styles",
    "db": "db:db",
    "import": "import_:import_",
    "cleanup": "cleanup:cleanup",
    "reconcile": "reconcile:reconcile",
    "dataset": "dataset:dataset",
    "train": "train:train",
    "export": "export:export",
    "bench": "bench:bench",
    "client": "client:client",  # the HTTP API's client, with a progress bar
}


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs (or ``--help`` lists it).

    A server is a long-lived process: it should not hold the benchmark's ONNX parser or
    the dataset tools in memory because they share its command (about 13 MB for ``onnx``).
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = COMMANDS.get(cmd_name)
        if where is None:
            return None
        module, attribute = where.split(":")
        command: click.Command = getattr(
            importlib.import_module(f"pixserve.cli.{module}"), attribute
        )
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(pixserve.__version__, prog_name="pixserve")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def cli(verbose: bool) -> None:
    """Serve image-to-image styles as a web service, or run them on files."""
    # Text or JSON lines with request and job ids (PIXSERVE_LOG_FORMAT, core/logs.py).
    try:
        logs.configure(logging.DEBUG if verbose else logging.INFO)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


def main() -> None:
    """Entry point of the ``pixserve`` script: a pixserve error is one line, not a traceback."""
    try:
        cli()
    except PixserveError as exc:
        click.secho(f"error: {exc.message} ({exc.code})", fg="red", err=True)
        sys.exit(1)
