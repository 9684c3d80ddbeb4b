"""The ``pixserve`` command line."""

from pixserve.cli.main import cli, main

__all__ = ["cli", "main"]
