import json
import threading
import time

import pytest
from fastapi.testclient import TestClient

from pixserve.core.errors import NoFaceFound, Unavailable
from pixserve.web import AppContext, create_app
from pixserve.worker import Worker
from tests.support.images import truncated_jpeg


@pytest.fixture
def ctx(service, translator, catalog, settings, jobs, blobs):
    return AppContext(
        settings=settings,
        jobs=service,
        translate=translator,
        catalog=catalog,
        checks={"database": jobs.ping, "storage": blobs.ping},
    )


@pytest.fixture
def client(ctx):
    with TestClient(create_app(ctx), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def worker(jobs, blobs, renderer, settings):
    return Worker(jobs, blobs, renderer, settings)


def post_job(client, data, style="invert", **fields):
    return client.post(
        "/v1/jobs", files={"file": ("x.jpg", data, "image/jpeg")}, data={"style": style, **fields}
    )


def assert_error(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def test_styles(client):
    body = client.get("/v1/styles").json()
    assert [s["name"] for s in body["styles"]] == ["invert", "slow"]
    assert body["styles"][0]["thumbnail_url"] is None
    assert body["limits"]["max_upload_bytes"] > 0


def test_submit_poll_result(client, worker, small_jpeg):
    response = post_job(client, small_jpeg)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["position"] == 0
    assert response.headers["location"] == body["status_url"] == f"/v1/jobs/{body['id']}"
    assert body["result_url"] is None

    worker.run_once()
    done = client.get(body["status_url"]).json()
    assert done["status"] == "succeeded" and done["progress"] == 1.0
    result = client.get(done["result_url"])
    assert result.status_code == 200 and result.headers["content-type"] == "image/jpeg"
    download = client.get(done["result_url"], params={"download": 1})
    assert download.headers["content-disposition"].startswith("attachment")


def test_events_stream_until_terminal(client, worker, small_jpeg):
    job_id = post_job(client, small_jpeg).json()["id"]
    worker.run_once()
    with client.stream("GET", f"/v1/jobs/{job_id}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = "".join(stream.iter_text())
    events = [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]
    assert events[-1]["status"] == "succeeded"


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"just some text", 415, "unsupported_image"),
        (truncated_jpeg(), 422, "corrupt_image"),
    ],
)
def test_bad_uploads(client, data, status, code):
    assert_error(post_job(client, data), status, code)
    assert client.get("/healthz").status_code == 200


def test_upload_byte_limit(client, ctx):
    ctx.settings.max_upload_bytes = 1000
    assert_error(post_job(client, b"\xff" * 5000), 413, "image_too_large")


def test_missing_fields_and_unknown_things(client, small_jpeg):
    assert_error(client.post("/v1/jobs", data={"style": "invert"}), 422, "invalid_request")
    assert_error(post_job(client, small_jpeg, style="nope"), 404, "unknown_style")
    assert_error(post_job(client, small_jpeg, crop="1,2"), 422, "invalid_crop")
    assert_error(client.get("/v1/jobs/doesnotexist"), 404, "job_not_found")
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")


def test_result_not_ready(client, small_jpeg):
    job_id = post_job(client, small_jpeg).json()["id"]
    assert_error(client.get(f"/v1/jobs/{job_id}/result"), 409, "result_not_ready")


def test_delete(client, small_jpeg):
    job_id = post_job(client, small_jpeg).json()["id"]
    response = client.delete(f"/v1/jobs/{job_id}")
    assert response.json() == {"id": job_id, "status": "canceled", "deleted": True}
    assert_error(client.get(f"/v1/jobs/{job_id}"), 404, "job_not_found")


class WorkerThread:
    """A worker running in a thread beside the app, started and stopped by its lifespan."""

    def __init__(self, worker):
        self.worker = worker
        self.thread = threading.Thread(target=worker.run, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.worker.stop.set()
        self.thread.join(5)


def translate(client, data, style="invert", **fields):
    return client.post(
        "/v1/translate",
        files={"file": ("x.jpg", data, "image/jpeg")},
        data={"style": style, **fields},
    )


def test_translate_returns_the_image_of_its_job(ctx, worker, small_jpeg):
    ctx.background = [WorkerThread(worker)]
    with TestClient(create_app(ctx)) as client:
        response = translate(client, small_jpeg, crop="10,5,20,30")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/jpeg"
        job = client.get(f"/v1/jobs/{response.headers['x-job-id']}").json()
        assert job["status"] == "succeeded"
        assert (job["result_width"], job["result_height"]) == (20, 30)


def test_translate_answers_202_with_the_job_when_the_wait_ends(client, worker, small_jpeg):
    response = translate(client, small_jpeg, style="slow", wait="0.3")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued" and body["style"] == "slow"
    assert response.headers["location"] == f"/v1/jobs/{body['id']}"
    assert worker.run_once()  # the job goes on after the call gave up waiting
    assert client.get(response.headers["location"]).json()["status"] == "succeeded"


def test_translate_wait_in_the_query_and_capped(client, translator, small_jpeg):
    translator.settings = translator.settings.model_copy(update={"translate_wait_seconds": 0.1})
    started = time.monotonic()
    response = client.post(
        "/v1/translate?wait=60",
        files={"file": ("x.jpg", small_jpeg, "image/jpeg")},
        data={"style": "invert"},
    )
    assert response.status_code == 202, response.text
    assert time.monotonic() - started < 5


def test_translate_refuses_what_submit_refuses(client, small_jpeg):
    assert_error(translate(client, small_jpeg, style="nope"), 404, "unknown_style")
    assert_error(translate(client, b"not an image"), 415, "unsupported_image")
    assert_error(translate(client, small_jpeg, wait="-1"), 422, "invalid_request")


def test_translate_of_a_job_that_fails_gives_its_error(ctx, worker, renderer, small_jpeg):
    renderer.fail_with = NoFaceFound()
    ctx.background = [WorkerThread(worker)]
    with TestClient(create_app(ctx)) as client:
        assert_error(translate(client, small_jpeg), 422, "no_face_found")


def test_translate_is_in_the_schema_with_its_answers(client):
    operation = client.get("/openapi.json").json()["paths"]["/v1/translate"]["post"]
    assert {"200", "202", "404", "413", "415", "422", "500", "503"} <= set(operation["responses"])


def test_crash_is_a_json_500_without_details(client, ctx, monkeypatch, small_jpeg):
    def boom(*a, **k):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(ctx.jobs, "status", boom)
    response = client.get("/v1/jobs/x")
    assert_error(response, 500, "internal_error")
    assert "secret" not in response.text


def test_unavailable_is_503_with_retry_after(client, ctx, monkeypatch):
    def down(*a, **k):
        raise Unavailable()

    monkeypatch.setattr(ctx.jobs, "status", down)
    response = client.get("/v1/jobs/x")
    assert_error(response, 503, "unavailable")
    assert response.headers["retry-after"]


def test_health_and_readiness(client, ctx):
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/readyz").status_code == 200

    def broken():
        raise Unavailable("database is down")

    ctx.checks["database"] = broken
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "database is down"


def test_metrics(client, small_jpeg):
    post_job(client, small_jpeg)
    text = client.get("/metrics").text
    assert 'pixserve_queue_depth{style="invert"} 1' in text
    assert 'pixserve_jobs{style="slow",status="queued"} 0' in text


def test_openapi_documents_the_api(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/styles", "/v1/jobs", "/v1/jobs/{job_id}", "/v1/translate", "/readyz"):
        assert path in paths


def test_a_failed_jobs_reason_is_in_the_readers_language(client, jobs, small_jpeg):
    job_id = post_job(client, small_jpeg).json()["id"]
    assert [j.id for j in jobs.claim("w1", lease_seconds=30)] == [job_id]
    jobs.fail(job_id, "w1", code="no_face_found", message="No face was found in the image.")
    english = client.get(f"/v1/jobs/{job_id}").json()["error"]
    assert english == {"code": "no_face_found", "message": "No face was found in the image."}
    spanish = client.get(f"/v1/jobs/{job_id}", headers={"Accept-Language": "es"}).json()["error"]
    assert spanish["code"] == "no_face_found"
    assert spanish["message"] != english["message"] and "cara" in spanish["message"]
    # A stored text outside the catalogue falls back to what its code means, translated.
    job_id = post_job(client, small_jpeg).json()["id"]
    jobs.claim("w1", lease_seconds=30)
    jobs.fail(job_id, "w1", code="model_error", message="model x.onnx failed on input (1, 3)")
    spanish = client.get(f"/v1/jobs/{job_id}?lang=es").json()["error"]
    assert spanish["code"] == "model_error" and "x.onnx" not in spanish["message"]


def test_static_files_are_revalidated(client):
    # ES modules import each other without version tags: after an upgrade they must not
    # mix old and new from a browser's cache.
    response = client.get("/static/favicon.svg")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache" and response.headers["etag"]


class _Service:
    """A background service of the app that notes its starts and stops."""

    def __init__(self, log: list[str], name: str, *, fails: bool = False) -> None:
        self.log, self.name, self.fails = log, name, fails

    def start(self) -> None:
        if self.fails:
            raise RuntimeError(f"{self.name} cannot start")
        self.log.append(f"start {self.name}")

    def stop(self) -> None:
        self.log.append(f"stop {self.name}")


def test_services_started_before_one_that_fails_are_stopped_and_the_stores_closed(
    service, translator, catalog, settings
) -> None:
    # Otherwise the process exits with workers still holding their jobs' leases.
    log: list[str] = []
    ctx = AppContext(
        settings=settings, jobs=service, translate=translator, catalog=catalog,
        background=[_Service(log, "workers"), _Service(log, "sweeper", fails=True)],
        close=lambda: log.append("close"),
    )  # fmt: skip
    with pytest.raises(RuntimeError, match="sweeper cannot start"), TestClient(create_app(ctx)):
        pass
    assert log == ["start workers", "stop workers", "close"]
