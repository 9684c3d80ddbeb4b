"""A local server that speaks Cloudflare Turnstile's siteverify, for the bot check's tests."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from tests.support.server import free_port

SECRET = "0x4AAAAAAA-test-secret"
SITE_KEY = "0x4AAAAAAA-test-site-key"
GOOD = "XXXX.DUMMY.TOKEN.XXXX"


class SiteVerify(BaseHTTPRequestHandler):
    """Turnstile's siteverify, as its docs describe it: success for GOOD (once per token is
    not enforced here), the documented error codes otherwise."""

    seen: list[dict[str, list[str]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        type(self).seen.append(form)
        if form.get("secret") != [SECRET]:
            body = {"success": False, "error-codes": ["invalid-input-secret"]}
        elif not form.get("response"):
            body = {"success": False, "error-codes": ["missing-input-response"]}
        elif form["response"] != [GOOD]:
            body = {"success": False, "error-codes": ["invalid-input-response"]}
        else:
            body = {
                "success": True,
                "error-codes": [],
                "challenge_ts": "2026-01-01T00:00:00.000Z",
                "hostname": "127.0.0.1",
            }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


class Provider:
    """The local siteverify on a fixed port, which a test can take down and bring back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/turnstile/v0/siteverify"

    def start(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), SiteVerify)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()
        self.server = None
