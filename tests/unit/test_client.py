"""``pixserve.client`` against a scripted server (httpx.MockTransport); the real one is in
tests/integration/test_translate_client.py."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from pixserve.client import Client, PixserveClientError, parse_events


def job(status: str, progress: float = 0.0, **extra: object) -> dict[str, object]:
    return {
        "id": "j1",
        "status": status,
        "progress": progress,
        "eta_seconds": None if status in ("succeeded", "failed") else 3.0,
        "error": None,
        "result_url": "/v1/jobs/j1/result" if status == "succeeded" else None,
        **extra,
    }


def sse(*jobs: dict[str, object]) -> bytes:
    return "".join(f"event: status\ndata: {json.dumps(j)}\n\n" for j in jobs).encode()


class Server:
    """Answers the client's calls from scripts: one events body per connection, in turn."""

    def __init__(self, streams: list[httpx.Response], polls: list[dict[str, object]] = ()):
        self.streams = list(streams)
        self.polls = list(polls)
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls.append(f"{request.method} {path}")
        if request.method == "POST" and path == "/v1/jobs":
            assert b'name="style"' in request.content
            return httpx.Response(202, json=job("queued"))
        if path == "/v1/jobs/j1/events":
            return self.streams.pop(0)
        if path == "/v1/jobs/j1":
            return httpx.Response(200, json=self.polls.pop(0))
        if path == "/v1/jobs/j1/result":
            return httpx.Response(200, content=b"IMAGE", headers={"content-type": "image/jpeg"})
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "no"}})


def client_for(server: Server) -> Client:
    return Client("http://pix.test", poll_interval=0.01, transport=httpx.MockTransport(server))


def test_parse_events_skips_comments_and_joins_data_lines():
    lines = [": keep-alive", "", "event: status", 'data: {"a":', "data: 1}", "", "data: x", ""]
    assert list(parse_events(lines)) == [("status", '{"a":\n1}'), ("message", "x")]


def test_translate_follows_a_dropped_stream_and_reports_progress():
    server = Server(
        [
            httpx.Response(200, content=sse(job("queued"), job("running", 0.25))),  # drops
            httpx.Response(200, content=sse(job("running", 0.5), job("succeeded", 1.0))),
        ]
    )
    seen: list[tuple[float, str]] = []
    with client_for(server) as pix:
        data = pix.translate(b"bytes", "cartoon", progress=lambda f, s, eta: seen.append((f, s)))
    assert data == b"IMAGE"
    assert seen == [(0.0, "queued"), (0.25, "running"), (0.5, "running"), (1.0, "succeeded")]
    assert server.calls.count("GET /v1/jobs/j1/events") == 2


def test_without_events_it_polls():
    server = Server(
        [httpx.Response(503, json={"error": {"code": "unavailable", "message": "x"}})] * 4,
        polls=[job("running", 0.5), job("succeeded", 1.0)],
    )
    with client_for(server) as pix:
        assert pix.translate(b"bytes", "cartoon") == b"IMAGE"
    assert "GET /v1/jobs/j1" in server.calls


def test_a_failed_job_raises_its_code():
    failed = job("failed", error={"code": "no_face_found", "message": "No face."})
    server = Server([httpx.Response(200, content=sse(job("running"), failed))])
    with client_for(server) as pix, pytest.raises(PixserveClientError) as caught:
        pix.translate(b"bytes", "toon")
    assert (caught.value.code, caught.value.job_id) == ("no_face_found", "j1")


def test_an_api_error_raises_its_code_and_status():
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": {"code": "unknown_style", "message": "No."}})

    pix = Client("http://pix.test", transport=httpx.MockTransport(refuse))
    with pix, pytest.raises(PixserveClientError) as caught:
        pix.submit(b"bytes", "nope")
    assert (caught.value.code, caught.value.status, caught.value.message) == (
        "unknown_style",
        404,
        "No.",
    )


def test_a_server_that_is_not_there_is_a_connection_error():
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    pix = Client("http://pix.test", transport=httpx.MockTransport(down))
    with pix, pytest.raises(PixserveClientError) as caught:
        pix.styles()
    assert caught.value.code == "connection_error"


def test_the_client_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from pixserve.client import Client\n"
        "heavy = ('numpy', 'onnx', 'onnxruntime', 'torch', 'cv2', 'PIL', 'fastapi', 'sqlalchemy')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy"
        " or m.startswith('pixserve.') and m != 'pixserve.client'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
