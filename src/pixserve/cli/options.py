"""Pieces shared by the commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from pixserve.core.errors import PixserveError

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(func: F) -> F:
    """Turn a ``PixserveError`` into a one-line message and exit status 1, not a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PixserveError as exc:
            click.secho(f"error: {exc.message} ({exc.code})", fg="red", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def bundle_options(func: F) -> F:
    """``--name``, ``--title``, ``--description``, ``--styles-dir``: what a command that
    writes a style bundle (``import``, ``export``) asks for."""
    options = [
        click.option("--name", required=True, help="Style name: lowercase letters, digits, '-'."),
        click.option("--title", default=None, help="Shown in the UI (default: from the name)."),
        click.option("--description", default=None, help="One sentence for the UI."),
        click.option(
            "--styles-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Where to write the bundle (default: first folder of PIXSERVE_STYLES_PATH).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func
