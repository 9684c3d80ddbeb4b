"""Logging for every pixserve process: text or JSON lines, each with the request id and the
job id it belongs to.

Two context variables carry the ids: the web's request-id middleware
(``web/request_id.py``) sets :data:`request_id` for the life of a request, and the worker sets
:data:`job_id` while it processes a job (``worker/loop.py``). :class:`ContextFilter`, on the
root handler, copies them onto every record (``record.request_id``, ``record.job_id``; ``None``
where they do not apply), so lines from any library (uvicorn's access log included) carry them.

``PIXSERVE_LOG_FORMAT`` picks the format: ``text`` (the default: one readable line, the ids
appended as ``[request=… job=…]`` when set) or ``json`` (one object per line: ``time``,
``level``, ``logger``, ``message``, ``request_id``/``job_id`` when set, ``exc_info`` for
tracebacks). :func:`configure` sets up the process; :func:`log_config` is the same as a
``logging.config`` dictionary, which uvicorn applies in each web process it starts.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]
FORMATS: tuple[LogFormat, ...] = ("text", "json")
ENV = "PIXSERVE_LOG_FORMAT"

#: The id of the HTTP request being served (web/request_id.py), or None.
request_id: ContextVar[str | None] = ContextVar("pixserve_request_id", default=None)
#: The id of the job a worker is processing (worker/loop.py), or None.
job_id: ContextVar[str | None] = ContextVar("pixserve_job_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
#: Attributes every LogRecord has; anything else on a record was passed with ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "job_id",
}


@contextmanager
def job_context(value: str) -> Iterator[None]:
    """Within the block, log lines carry ``value`` as their job id."""
    token = job_id.set(value)
    try:
        yield
    finally:
        job_id.reset(token)


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and ``job_id`` (from the context variables) to every record.

    A record that already has them (a line logged for another job, with ``extra=``) keeps
    its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get()
        if getattr(record, "job_id", None) is None:
            record.job_id = job_id.get()
        return True


class TextFormatter(logging.Formatter):
    """The classic line, with ``[request=… job=…]`` appended when either is set."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None) -> None:
        super().__init__(fmt or TEXT_FORMAT, datefmt)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = [
            f"{name}={value}"
            for name, value in (
                ("request", getattr(record, "request_id", None)),
                ("job", getattr(record, "job_id", None)),
            )
            if value
        ]
        if not ids:
            return line
        head, sep, rest = line.partition("\n")  # after the message, before any traceback
        return f"{head} [{' '.join(ids)}]{sep}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "job_id"):
            value = getattr(record, key, None)
            if value:
                out[key] = value
        for key, value in vars(record).items():  # extra={...} fields
            if key not in _STANDARD and not key.startswith("_") and key not in out:
                out[key] = value if isinstance(value, (str, int, float, bool)) else repr(value)
        if record.exc_info:
            out["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def log_format(value: str | None = None) -> LogFormat:
    """The format named by ``value`` or ``PIXSERVE_LOG_FORMAT`` (default ``text``)."""
    name = (value if value is not None else os.environ.get(ENV, "")).strip().lower() or "text"
    if name not in FORMATS:
        raise ValueError(f"{ENV} must be one of {', '.join(FORMATS)}, not {name!r}")
    return name


def log_config(level: int | str = logging.INFO, fmt: str | None = None) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dictionary: one stderr handler on the root logger
    with :class:`ContextFilter` and the chosen formatter; uvicorn's loggers (access log
    included) propagate to it instead of keeping their own handlers."""
    formatter = JsonFormatter if log_format(fmt) == "json" else TextFormatter
    name = logging.getLevelName(level) if isinstance(level, int) else level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": f"{__name__}.ContextFilter"}},
        "formatters": {"pixserve": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "filters": ["context"],
                "formatter": "pixserve",
            }
        },
        "root": {"level": name, "handlers": ["stderr"]},
        "loggers": {
            logger: {"handlers": [], "propagate": True, "level": "INFO"}
            for logger in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def configure(level: int | str = logging.INFO, fmt: str | None = None) -> None:
    """Set up this process's logging (see :func:`log_config`)."""
    logging.config.dictConfig(log_config(level, fmt))
