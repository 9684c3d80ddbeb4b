"""core/logs.py: request and job ids on every line, text or JSON."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from pixserve.core import logs


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO, logging.Handler]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream, handler
    logger.removeHandler(handler)
    logger.propagate = True


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_the_request_and_job_ids(capture) -> None:
    logger, stream, _ = capture
    logger.info("outside")
    token = logs.request_id.set("req-1")
    try:
        logger.info("in a request %s", "x")
        with logs.job_context("job-9"):
            logger.warning("in a job", extra={"style": "anime"})
    finally:
        logs.request_id.reset(token)
    logger.info("after")
    outside, in_request, in_job, after = lines(stream)
    assert "request_id" not in outside and "job_id" not in outside
    assert in_request["message"] == "in a request x" and in_request["request_id"] == "req-1"
    assert in_job["request_id"] == "req-1" and in_job["job_id"] == "job-9"
    assert in_job["level"] == "warning" and in_job["logger"] == "tests.logs"
    assert in_job["style"] == "anime"
    assert "request_id" not in after and "job_id" not in after


def test_json_keeps_tracebacks_on_one_line(capture) -> None:
    logger, stream, _ = capture
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("crashed")
    (line,) = lines(stream)
    assert "RuntimeError: boom" in str(line["exc_info"])


def test_text_lines_append_the_ids(capture) -> None:
    logger, stream, handler = capture
    handler.setFormatter(logs.TextFormatter())
    with logs.job_context("job-9"):
        logger.info("hello")
    logger.info("plain")
    first, second = stream.getvalue().splitlines()
    assert first.endswith("tests.logs: hello [job=job-9]")
    assert second.endswith("tests.logs: plain")


def test_the_format_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(logs.ENV, raising=False)
    assert logs.log_format() == "text"
    monkeypatch.setenv(logs.ENV, "JSON")
    assert logs.log_format() == "json"
    config = logs.log_config(logging.DEBUG)
    assert config["formatters"]["pixserve"]["()"].endswith("JsonFormatter")
    assert config["root"]["level"] == "DEBUG"
    assert config["loggers"]["uvicorn.access"]["propagate"] is True
    monkeypatch.setenv(logs.ENV, "xml")
    with pytest.raises(ValueError, match="PIXSERVE_LOG_FORMAT"):
        logs.log_format()


def test_configure_routes_uvicorns_access_log_through_the_root_handler(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        logs.configure(logging.INFO, "json")
        token = logs.request_id.set("abc")
        try:
            logging.getLogger("uvicorn.access").info(
                '%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", "/healthz", "1.1", 200
            )
        finally:
            logs.request_id.reset(token)
        line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
        assert line["request_id"] == "abc" and line["logger"] == "uvicorn.access"
        assert "GET /healthz" in str(line["message"])
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
