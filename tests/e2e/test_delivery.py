"""Delivery and privacy on a real server: e-mail, signed links, webhooks, retention, reconcile.

The SMTP server (aiosmtpd) and the webhook receiver run in this test process on 127.0.0.1;
the server under test is a real ``pixserve serve`` process told to allow private webhook
targets. Shortened TTLs are applied by running ``pixserve cleanup`` with other settings.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.images import jpeg_bytes, photo
from tests.support.server import PIXSERVE, ServerProcess, free_port, wait_for_status
from tests.support.smtp import SmtpSink, smtp_sink
from tests.support.webhooks import Receiver, standard_webhooks_valid, webhook_receiver

pytestmark = pytest.mark.e2e

LINK = re.compile(r"https?://\S+/v1/jobs/[A-Za-z0-9_-]+/result\?expires=\d+&signature=[\w-]+")


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpSink]:
    with smtp_sink() as sink:
        yield sink


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as r:
        yield r


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpSink) -> Iterator[ServerProcess]:
    port = free_port()
    env = {
        "PIXSERVE_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
        "PIXSERVE_MAIL_FROM": "pixserve <noreply@pixserve.test>",
        "PIXSERVE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PIXSERVE_WEBHOOK_ALLOW_PRIVATE": "true",
        "PIXSERVE_NOTIFY_BACKOFF_SECONDS": "0.2",
        "PIXSERVE_POLL_INTERVAL": "0.1",
    }
    proc = ServerProcess(tmp_path_factory.mktemp("delivery-data"), env=env, port=port).start()
    try:
        yield proc
    finally:
        assert proc.terminate(), proc.log()


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def submit(client: httpx.Client, headers: dict[str, str] | None = None, **fields: str) -> dict:
    data = jpeg_bytes(photo("astronaut"))
    response = client.post(
        "/v1/jobs",
        files={"file": ("photo.jpg", data)},
        data={"style": "pencil", **fields},
        headers=headers or {},
    )
    assert response.status_code == 202, response.text
    return response.json()


def job_files(server: ServerProcess, job_id: str) -> list[str]:
    folder = server.data_dir / "blobs" / "jobs" / job_id
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def run_cli(server: ServerProcess, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PIXSERVE_DATA_DIR": str(server.data_dir), **env}
    return subprocess.run(
        [*PIXSERVE, *args], env=full_env, capture_output=True, text=True, timeout=120
    )


def wait_for_deliveries(client: httpx.Client, job_id: str, count: int) -> list[dict]:
    def settled(body: dict) -> bool:
        notes = body["notifications"]
        return len(notes) >= count and all(n["status"] in ("sent", "failed") for n in notes)

    for _ in range(600):
        body = client.get(f"/v1/jobs/{job_id}").json()
        if settled(body):
            return body["notifications"]
        time.sleep(0.05)
    raise AssertionError(f"deliveries of {job_id} never settled: {body['notifications']}")


def test_spanish_email_with_a_link_that_works_until_the_result_expires(
    server: ServerProcess, client: httpx.Client, smtp: SmtpSink
) -> None:
    before = len(smtp.messages)
    job = submit(
        client, headers={"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}, email="ana@example.org"
    )
    assert wait_for_status(client, job["id"], {"succeeded", "failed"})["status"] == "succeeded"
    notes = wait_for_deliveries(client, job["id"], 1)
    assert [(n["channel"], n["event"], n["status"]) for n in notes] == [
        ("email", "job.succeeded", "sent")
    ]
    received = smtp.messages[before:]
    assert len(received) == 1
    msg = received[0].message
    assert received[0].rcpt_tos == ["ana@example.org"]
    assert "está lista" in msg["Subject"]
    assert msg["Content-Language"] == "es"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "Descargar la imagen a tamaño completo" in text
    link = LINK.search(text)
    assert link is not None, text
    assert link.group(0).replace("&", "&amp;") in html

    url = link.group(0)
    downloaded = httpx.get(url, timeout=30)
    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"] == "image/jpeg"
    assert downloaded.content == client.get(f"/v1/jobs/{job['id']}/result").content

    tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    refused = httpx.get(tampered, headers={"Accept": "text/html"}, timeout=30)
    assert refused.status_code == 403
    assert "text/html" in refused.headers["content-type"]
    assert "Este enlace no funciona" in refused.text or "This link does not work" in refused.text

    # The result's TTL runs out (shortened for this run of the cleanup): the link is refused.
    done = run_cli(server, "cleanup", "--json", PIXSERVE_RESULT_TTL_HOURS="0.000001")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["results_expired"] >= 1
    # Status calls may be answered from the hub, at most 1.5 × event_poll_seconds old.
    assert wait_for_status(client, job["id"], {"expired"}, timeout=5)["status"] == "expired"
    gone = httpx.get(url, headers={"Accept": "application/json"}, timeout=30)
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "result_expired"
    page = httpx.get(url, headers={"Accept": "text/html", "Accept-Language": "es"}, timeout=30)
    assert page.status_code == 410 and "Este enlace ha caducado" in page.text
    assert job_files(server, job["id"]) == []


def test_webhooks_are_signed_and_the_terminal_event_survives_two_failures(
    client: httpx.Client, receiver: Receiver
) -> None:
    receiver.fail[("/flaky", "job.succeeded")] = 2
    job = submit(client, webhook_url=receiver.url("/flaky"))
    secret = job["webhook_secret"]
    assert secret.startswith("whsec_")
    assert wait_for_status(client, job["id"], {"succeeded", "failed"})["status"] == "succeeded"

    def delivered(calls: list) -> bool:
        return any(
            c.path == "/flaky" and c.event["type"] == "job.succeeded" and c.answered == 200
            for c in calls
        )

    receiver.wait_until(delivered)
    calls = [c for c in receiver.calls_to("/flaky") if c.event["data"]["id"] == job["id"]]
    assert all(standard_webhooks_valid(secret, c.headers, c.body) for c in calls)
    kinds = [c.event["type"] for c in calls]
    assert kinds.count("job.running") == 1
    succeeded = [c for c in calls if c.event["type"] == "job.succeeded"]
    assert [c.answered for c in succeeded] == [500, 500, 200]
    # One event, one id, one body: only the timestamp and its signature change per try.
    assert len({c.headers["webhook-id"] for c in succeeded}) == 1
    assert len({c.body for c in succeeded}) == 1
    data = succeeded[-1].event["data"]
    assert data["status"] == "succeeded"
    assert httpx.get(data["result_url"], timeout=30).status_code == 200
    notes = wait_for_deliveries(client, job["id"], 2)
    terminal = next(n for n in notes if n["event"] == "job.succeeded")
    assert terminal["status"] == "sent" and terminal["attempts"] == 3


def test_private_webhook_targets_are_refused_without_the_setting(tmp_path: Path) -> None:
    proc = ServerProcess(tmp_path / "strict").start()
    try:
        with httpx.Client(base_url=proc.url, timeout=30) as c:
            response = c.post(
                "/v1/jobs",
                files={"file": ("p.jpg", jpeg_bytes(photo("astronaut")))},
                data={"style": "pencil", "webhook_url": "http://127.0.0.1:9/hook"},
            )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "webhook_refused"
        assert "loopback" in response.json()["error"]["message"]
    finally:
        assert proc.terminate(), proc.log()


def test_originals_go_at_once_results_after_the_ttl_and_delete_takes_both(
    server: ServerProcess, client: httpx.Client
) -> None:
    job = submit(client)
    assert wait_for_status(client, job["id"], {"succeeded", "failed"})["status"] == "succeeded"
    # The worker deletes the original right after it records the success: allow it a moment.
    deadline = time.monotonic() + 10
    files = job_files(server, job["id"])
    while any(name.startswith("input.") for name in files) and time.monotonic() < deadline:
        time.sleep(0.05)
        files = job_files(server, job["id"])
    assert not any(name.startswith("input.") for name in files), files
    assert any(name.startswith("result-") for name in files), files

    done = run_cli(server, "cleanup", PIXSERVE_RESULT_TTL_HOURS="0.000001")
    assert done.returncode == 0, done.stderr
    assert job_files(server, job["id"]) == []
    assert client.get(f"/v1/jobs/{job['id']}/result").json()["error"]["code"] == "result_expired"

    other = submit(client)
    assert wait_for_status(client, other["id"], {"succeeded", "failed"})["status"] == "succeeded"
    assert job_files(server, other["id"]) != []
    assert client.delete(f"/v1/jobs/{other['id']}").status_code == 200
    assert job_files(server, other["id"]) == []
    assert client.get(f"/v1/jobs/{other['id']}").status_code == 404


def test_reconcile_finds_an_orphan_blob_and_a_job_with_a_missing_blob(
    server: ServerProcess, client: httpx.Client
) -> None:
    job = submit(client)
    assert wait_for_status(client, job["id"], {"succeeded", "failed"})["status"] == "succeeded"
    (result,) = [n for n in job_files(server, job["id"]) if n.startswith("result-")]
    (server.data_dir / "blobs" / "jobs" / job["id"] / result).unlink()
    orphan_id = secrets.token_urlsafe(16)
    orphan = server.data_dir / "blobs" / "jobs" / orphan_id / "input.jpg"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left behind")

    found = run_cli(server, "reconcile", "--json")
    assert found.returncode == 2, found.stderr
    report = json.loads(found.stdout)
    assert f"jobs/{orphan_id}/input.jpg" in report["orphan_blobs"]
    assert {"id": job["id"], "status": "succeeded", "missing": "result", "action": "expired"} in (
        report["broken_jobs"]
    )
    assert orphan.exists()

    fixed = run_cli(server, "reconcile", "--fix")
    assert fixed.returncode == 0, fixed.stderr
    assert not orphan.exists()
    # Status calls may be answered from the hub, at most 1.5 × event_poll_seconds old.
    assert wait_for_status(client, job["id"], {"expired"}, timeout=5)["status"] == "expired"
    again = run_cli(server, "reconcile")
    assert again.returncode == 0 and "agree" in again.stdout
