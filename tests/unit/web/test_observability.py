"""Issue #14, observability: X-Request-ID, ids in log lines, /metrics histograms."""

from __future__ import annotations

import io
import json
import logging

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from pixserve.core import logs
from pixserve.domain.metrics import QUEUE_WAIT_BUCKETS, RUN_TIME_BUCKETS
from pixserve.web import AppContext, create_app
from pixserve.web.request_id import HEADER, sane_request_id
from pixserve.worker import Worker


@pytest.fixture
def ctx(service, translator, catalog, settings, jobs, blobs):
    return AppContext(
        settings=settings,
        jobs=service,
        translate=translator,
        catalog=catalog,
        checks={"database": jobs.ping, "storage": blobs.ping},
        engines=lambda: {"invert": {"engine": "builtin", "precision": "fp32"}},
    )


@pytest.fixture
def client(ctx):
    with TestClient(create_app(ctx), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def json_lines():
    """Every pixserve log line as JSON, through the production filter and formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("pixserve")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(level)


def post_job(client, data, style="invert", **headers):
    return client.post(
        "/v1/jobs",
        files={"file": ("x.jpg", data, "image/jpeg")},
        data={"style": style},
        headers=headers,
    )


def test_a_sane_request_id_is_echoed(client):
    response = client.get("/healthz", headers={HEADER: "trace-42.abc"})
    assert response.headers[HEADER] == "trace-42.abc"


@pytest.mark.parametrize("given", [None, "", "has space", "x" * 129, 'a"b', "é", "a=b;c"])
def test_a_missing_or_odd_request_id_is_replaced(client, given):
    headers = {} if given is None else {HEADER: given.encode("utf-8")}
    response = client.get("/healthz", headers=headers)
    made = response.headers[HEADER]
    assert made != given and sane_request_id(made) == made and len(made) == 32


def test_every_answer_carries_one_even_errors(client):
    assert HEADER in client.get("/v1/jobs/nope").headers
    assert HEADER in client.delete("/healthz").headers
    a, b = client.get("/healthz"), client.get("/healthz")
    assert a.headers[HEADER] != b.headers[HEADER]


def test_log_lines_carry_the_request_id_then_the_job_id(
    client, jobs, blobs, renderer, settings, small_jpeg, json_lines
):
    response = post_job(client, small_jpeg, **{HEADER: "upload-1"})
    job_id = response.json()["id"]
    logging.getLogger("pixserve.web.test").info("inside? no: after the request")
    Worker(jobs, blobs, renderer, settings).run_once()
    lines = json_lines()
    job_lines = [line for line in lines if line.get("job_id") == job_id]
    assert job_lines, lines
    assert any("succeeded" in str(line["message"]) for line in job_lines)
    after = [line for line in lines if line["logger"] == "pixserve.web.test"]
    assert "request_id" not in after[0]  # the context ends with the request
    assert logs.job_id.get() is None  # and the job's with the job


def test_a_request_id_reaches_log_lines_written_while_serving(client, ctx, json_lines):
    def noisy():
        logging.getLogger("pixserve.web.routes.health").warning("probe ran")

    ctx.checks["noisy"] = noisy
    client.get("/readyz", headers={HEADER: "probe-7"})
    (line,) = [x for x in json_lines() if x["message"] == "probe ran"]
    assert line["request_id"] == "probe-7"


def families(client):
    text = client.get("/metrics").text
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_metrics_parse_and_show_histograms_and_errors(client, jobs, worker_for, small_jpeg):
    ok = post_job(client, small_jpeg).json()["id"]
    worker_for.run_once()
    bad = post_job(client, small_jpeg).json()["id"]
    [claimed] = jobs.claim("w9", lease_seconds=30)
    assert claimed.id == bad
    jobs.fail(bad, "w9", code="no_face_found", message="none")
    assert client.delete(f"/v1/jobs/{ok}").status_code in (200, 204)  # counts stay

    found = families(client)
    run = found["pixserve_job_run_seconds"]
    assert run.type == "histogram"
    samples = {(s.name, s.labels.get("le")): s for s in run.samples}
    bucket = samples[("pixserve_job_run_seconds_bucket", "+Inf")]
    assert bucket.labels == {"style": "invert", "engine": "builtin", "le": "+Inf"}
    assert bucket.value == 1
    assert samples[("pixserve_job_run_seconds_count", None)].value == 1
    les = [s.labels["le"] for s in run.samples if s.name.endswith("_bucket")]
    assert les == [*(repr(b) for b in RUN_TIME_BUCKETS), "+Inf"]
    counts = [s.value for s in run.samples if s.name.endswith("_bucket")]
    assert counts == sorted(counts)
    wait = found["pixserve_job_queue_wait_seconds"]
    assert len([s for s in wait.samples if s.name.endswith("_bucket")]) == (
        len(QUEUE_WAIT_BUCKETS) + 1
    )
    errors = found["pixserve_job_errors"]  # the parser drops _total from a counter's name
    assert errors.type == "counter"
    (sample,) = errors.samples
    assert sample.labels == {"style": "invert", "engine": "builtin", "code": "no_face_found"}
    assert sample.value == 1
    assert "pixserve_jobs" in found and "pixserve_queue_depth" in found


@pytest.fixture
def worker_for(jobs, blobs, renderer, settings):
    return Worker(jobs, blobs, renderer, settings)
