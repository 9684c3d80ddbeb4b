"""Pieces shared by the commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
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
