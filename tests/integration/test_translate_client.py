"""One call, durable underneath: ``POST /v1/translate`` and ``pixserve.client`` against a real
``pixserve serve`` (SQLite, one in-process worker), with built-in styles on tiny images."""

from __future__ import annotations

import io
import subprocess
import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from PIL import Image

from pixserve.client import Client, PixserveClientError
from tests.support.images import jpeg_bytes, png_bytes
from tests.support.server import PIXSERVE, ServerProcess, wait_for_status


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("translate")).start()
    try:
        yield proc
    finally:
        assert proc.terminate(), proc.log()


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


def tiny(width: int = 48, height: int = 32) -> bytes:
    rng = np.random.default_rng(1)
    return jpeg_bytes(rng.integers(0, 255, (height, width, 3), dtype=np.uint8))


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.size


def translate(http: httpx.Client, data: bytes, style: str, **fields: str) -> httpx.Response:
    return http.post(
        "/v1/translate", files={"file": ("p.jpg", data)}, data={"style": style, **fields}
    )


def test_translate_of_a_fast_style_returns_the_image(http):
    response = translate(http, tiny(), "cartoon")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/")
    assert size_of(response.content) == (48, 32)
    job = http.get(f"/v1/jobs/{response.headers['x-job-id']}").json()
    assert job["status"] == "succeeded"  # it was a durable job all along


def test_translate_past_its_wait_answers_202_and_the_job_finishes(http):
    response = translate(http, tiny(), "pencil", wait="0")
    assert response.status_code == 202, response.text
    body = response.json()
    assert response.headers["location"] == body["status_url"] == f"/v1/jobs/{body['id']}"
    done = wait_for_status(http, body["id"], {"succeeded", "failed"})
    assert done["status"] == "succeeded", done
    assert size_of(http.get(done["result_url"]).content) == (48, 32)


def test_translate_of_a_bad_file_gives_the_error_code(http):
    response = translate(http, b"GIF89a but not really", "cartoon")
    assert response.status_code in (415, 422), response.text
    assert response.json()["error"]["code"] in ("unsupported_image", "corrupt_image")
    response = translate(http, png_bytes(np.zeros((8, 8, 3), np.uint8)), "no-such-style")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_style"


def test_the_client_translates_with_progress(server):
    seen: list[tuple[float, str, float | None]] = []
    with Client(server.url) as pix:
        data = pix.translate(
            tiny(64, 40), "cartoon", progress=lambda f, s, eta: seen.append((f, s, eta))
        )
        assert "cartoon" in {s["name"] for s in pix.styles()}
    assert size_of(data) == (64, 40)
    fractions = [f for f, _, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert seen[-1][1] == "succeeded"


def test_the_client_submits_waits_fetches_and_deletes(server):
    with Client(server.url) as pix:
        job = pix.submit(tiny(), "pencil", crop=(0, 0, 16, 16))
        done = pix.wait(job["id"], timeout=60)
        assert size_of(pix.result(done)) == (16, 16)
        assert pix.delete(job["id"])["deleted"] is True
        with pytest.raises(PixserveClientError) as caught:
            pix.job(job["id"])
    assert (caught.value.code, caught.value.status) == ("job_not_found", 404)


def test_the_client_raises_the_code_of_an_unknown_style(server):
    with Client(server.url) as pix, pytest.raises(PixserveClientError) as caught:
        pix.translate(tiny(), "no-such-style")
    assert (caught.value.code, caught.value.status) == ("unknown_style", 404)


def test_the_client_command(server, tmp_path):
    source, out = tmp_path / "in.jpg", tmp_path / "out.jpg"
    source.write_bytes(tiny())
    started = time.monotonic()
    done = subprocess.run(
        [*PIXSERVE, "client", "pencil", str(source), str(out), "--url", server.url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert size_of(out.read_bytes()) == (48, 32)
    assert time.monotonic() - started < 60
    failed = subprocess.run(
        [*PIXSERVE, "client", "nope", str(source), str(out), "--url", server.url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert failed.returncode == 1 and "unknown_style" in failed.stderr


def test_translate_stops_waiting_when_the_client_hangs_up(tmp_path):
    """No worker: the job stays queued, so the call can only end by its wait or the client."""
    idle = ServerProcess(tmp_path / "data", workers=0).start()
    try:
        with httpx.Client(base_url=idle.url, timeout=60) as http:
            response = translate(http, tiny(), "cartoon", wait="0.5")
            assert response.status_code == 202, response.text
            assert response.json()["status"] == "queued"
            with pytest.raises(httpx.ReadTimeout):  # the client gives up after 1 s of 30
                http.post(
                    "/v1/translate",
                    files={"file": ("p.jpg", tiny())},
                    data={"style": "cartoon", "wait": "30"},
                    timeout=httpx.Timeout(60, read=1.0),
                )
            deadline = time.monotonic() + 10
            while "client left" not in idle.log() and time.monotonic() < deadline:
                time.sleep(0.1)
        assert "client left" in idle.log(), idle.log()
    finally:
        assert idle.terminate(), idle.log()
