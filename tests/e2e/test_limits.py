"""Limits against a real ``pixserve serve``: an upload cut off while it streams (chunked, no
Content-Length), a rate limit, and the operator's pause seen by the page's config."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.images import jpeg_bytes
from tests.support.server import ServerProcess

MAX_UPLOAD = 1_000_000
TOKEN = "e2e-operator-token"


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {
        "PIXSERVE_MAX_UPLOAD_BYTES": str(MAX_UPLOAD),
        "PIXSERVE_RATE_LIMIT": "4/minute",
        "PIXSERVE_ADMIN_TOKEN": TOKEN,
    }
    proc = ServerProcess(tmp_path_factory.mktemp("limits"), env=env).start()
    try:
        yield proc
    finally:
        assert proc.terminate(), proc.log()


def _response_ready(sock: socket.socket) -> bool:
    return bool(select.select([sock], [], [], 0.0)[0])


def _read_answer(sock: socket.socket, wait: float = 10.0) -> str:
    """One whole HTTP answer: the head and as many body bytes as its Content-Length says.

    The server writes the head and the body separately, so one ``recv`` may hold only the
    head. A reset after the answer (the server closing on an upload it did not read) ends
    the read with what arrived."""
    data = b""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if len(body) >= length:
                break
        if not select.select([sock], [], [], max(0.0, deadline - time.monotonic()))[0]:
            break
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


def test_a_chunked_upload_is_cut_off_at_the_limit(limited_server: ServerProcess) -> None:
    head = (
        "POST /v1/jobs HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{limited_server.port}\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    part = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'
    chunk = b"\xff" * 65536
    sent = 0
    with socket.create_connection(("127.0.0.1", limited_server.port), timeout=10) as sock:
        sock.sendall(head + f"{len(part):x}\r\n".encode() + part + b"\r\n")
        try:
            # Up to 50 MB, far past the limit: the answer must come long before the end.
            while sent < 50 * MAX_UPLOAD and not _response_ready(sock):
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
                time.sleep(0.001)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = _read_answer(sock)
    print(f"sent {sent} bytes before the answer; limit {MAX_UPLOAD}")
    assert answer.startswith("HTTP/1.1 413"), answer
    assert "image_too_large" in answer
    # Refused while streaming, not after the whole 50 MB: what was sent past the limit sat in
    # the two kernels' socket buffers (several MB on loopback) when the answer came.
    assert sent < 10 * MAX_UPLOAD


def test_a_declared_oversize_body_is_refused_before_it_is_sent(
    limited_server: ServerProcess,
) -> None:
    head = (
        "POST /v1/jobs HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{limited_server.port}\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\n"
        f"Content-Length: {100 * MAX_UPLOAD}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", limited_server.port), timeout=10) as sock:
        sock.sendall(head)
        answer = _read_answer(sock)
    assert answer.startswith("HTTP/1.1 413"), answer


def test_rate_limit_and_pause(limited_server: ServerProcess) -> None:
    import numpy as np

    photo = jpeg_bytes(np.full((32, 32, 3), 128, dtype=np.uint8))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=limited_server.url, timeout=30) as client:
        assert client.post("/v1/admin/pause").status_code == 401
        assert client.post("/v1/admin/pause", headers=auth).json()["paused"] is True
        config = client.get("/v1/config").json()
        assert config["intake"]["reason"] == "paused"
        files = {"file": ("a.jpg", photo, "image/jpeg")}
        paused = client.post("/v1/jobs", files=files, data={"style": "pencil"})
        assert paused.status_code == 503 and paused.json()["error"]["code"] == "paused"
        client.post("/v1/admin/resume", headers=auth)
        time.sleep(1.1)  # the node trusts its read of the switch for a second
        codes = [
            client.post("/v1/jobs", files=files, data={"style": "pencil"}).status_code
            for _ in range(5)
        ]
        # 4/minute per client, counting attempts: the oversize uploads of the tests above
        # count (run alone, this test gets four in), the paused one does not (intake is
        # checked before the limiter). Once over the limit, every later attempt is refused.
        accepted = codes.count(202)
        assert accepted >= 2 and codes == [202] * accepted + [429] * (5 - accepted), codes
        stats = client.get("/v1/admin/stats", headers=auth).json()
        assert stats["intake"]["open"] is True
