"""SMTP down during a delivery burst: every e-mail arrives once the server is back, once each.

A real ``pixserve serve`` (SQLite, one worker) sends through a real SMTP server (aiosmtpd in
this process) that is not listening while a burst of jobs finishes: every try is refused at
the TCP level. Then the server starts on the same port, and the outbox's retries deliver.
``PIXSERVE_SOAK=1`` (``make soak``) raises the burst from 6 jobs to 40.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.support.images import jpeg_bytes, pattern
from tests.support.server import ServerProcess, free_port, wait_for_status

pytestmark = pytest.mark.integration

JOBS = 40 if os.environ.get("PIXSERVE_SOAK") else 6
#: The least time SMTP stays down (longer if the burst takes longer to finish and be refused).
DOWN_SECONDS = 3.0


class Mailbox:
    """The messages an SMTP server accepted, by recipient; survives the server's restarts."""

    def __init__(self) -> None:
        self.recipients: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"

    def count(self) -> Counter[str]:
        with self.lock:
            return Counter(self.recipients)


def email_deliveries(client: httpx.Client, job_id: str) -> list[dict]:
    body = client.get(f"/v1/jobs/{job_id}").json()
    return [n for n in body["notifications"] if n["channel"] == "email"]


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} after {timeout}s")
        time.sleep(0.1)


def test_smtp_down_during_a_burst_every_email_arrives_once(tmp_path: Path) -> None:
    smtp_port = free_port()  # nothing listens here yet: every connection is refused
    web_port = free_port()
    env = {
        "PIXSERVE_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}?timeout=5",
        "PIXSERVE_MAIL_FROM": "pixserve <noreply@pixserve.test>",
        "PIXSERVE_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
        "PIXSERVE_NOTIFY_BACKOFF_SECONDS": "0.2",  # 0.2, 0.4, 0.8 … s between tries
        "PIXSERVE_NOTIFY_MAX_ATTEMPTS": "8",  # the default: about 25 s of tries in all
        "PIXSERVE_POLL_INTERVAL": "0.1",
    }
    server = ServerProcess(tmp_path / "data", env=env, port=web_port).start()
    mailbox = Mailbox()
    controller: Controller | None = None
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            image = jpeg_bytes(pattern(96, 64))
            people = {}
            down_since = time.monotonic()
            for n in range(JOBS):
                to = f"burst{n}@example.org"
                response = client.post(
                    "/v1/jobs",
                    files={"file": ("p.jpg", image)},
                    data={"style": "pencil", "email": to},
                )
                assert response.status_code == 202, response.text
                people[response.json()["id"]] = to

            # The burst finishes while the SMTP server is down; mail never fails a job.
            for job_id in people:
                done = wait_for_status(client, job_id, {"succeeded", "failed"})
                assert done["status"] == "succeeded", done

            # Every e-mail has been tried and refused twice (a first try and a retry) before
            # the server starts.
            def all_refused() -> bool:
                notes = [email_deliveries(client, job_id) for job_id in people]
                return all(
                    len(n) == 1 and n[0]["attempts"] >= 2 and n[0]["status"] == "pending"
                    for n in notes
                )

            wait_until(all_refused, 30, "some e-mail was never tried while SMTP was down")
            time.sleep(max(0.0, down_since + DOWN_SECONDS - time.monotonic()))
            refused = sum(email_deliveries(client, j)[0]["attempts"] for j in people)
            assert not mailbox.count()

            controller = Controller(
                mailbox, hostname="127.0.0.1", port=smtp_port, ready_timeout=30.0
            )
            controller.start()
            down_for = time.monotonic() - down_since

            def all_settled() -> bool:
                notes = [email_deliveries(client, job_id) for job_id in people]
                return all(n[0]["status"] in ("sent", "failed") for n in notes)

            wait_until(all_settled, 60, "e-mails still unsent after SMTP came back")
            # Room for a duplicate to show up: longer than the housekeeper's poll and the
            # backoff at the time of the restart.
            time.sleep(2.0)

            received = mailbox.count()
            statuses = Counter(email_deliveries(client, j)[0]["status"] for j in people)
            jobs = Counter(client.get(f"/v1/jobs/{j}").json()["status"] for j in people)
            sent = sum(received.values())
            lost = sum(1 for to in people.values() if received[to] == 0)
            duplicates = sum(count - 1 for count in received.values() if count > 1)
            print(
                f"\ninjected: SMTP down (connection refused) for {down_for:.1f} s while "
                f"{JOBS} jobs finished, {refused} sends refused; counted: {sent} e-mails "
                f"for {JOBS} jobs, {lost} lost, {duplicates} duplicates; jobs {dict(jobs)}"
            )
            assert lost == 0 and duplicates == 0, received
            assert received == Counter(people.values())
            assert statuses == {"sent": JOBS}
            assert jobs == {"succeeded": JOBS}
    finally:
        if controller is not None:
            controller.stop()
        assert server.terminate(), server.log()
