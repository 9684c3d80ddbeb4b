"""A small Python client of pixserve's HTTP API: one call per image, with progress.

::

    from pixserve.client import Client

    with Client("http://127.0.0.1:8000") as pix:
        image = pix.translate("photo.jpg", "cartoon", progress=lambda f, status, eta: print(f))
        Path("cartoon.jpg").write_bytes(image)

``translate`` submits a job (``POST /v1/jobs``), follows its server-sent events
(``GET /v1/jobs/{id}/events``; it reconnects when the stream drops and polls
``GET /v1/jobs/{id}`` when events cannot be had), and downloads the result. Every failure
is a :class:`PixserveClientError` with the API's stable ``code``.

It imports httpx and the standard library only (no pixserve server code, no numpy), so it
loads quickly and can be copied into a project on its own.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

__all__ = ["Client", "PixserveClientError", "Progress", "parse_events"]

#: ``progress(fraction, status, eta_seconds)``: fraction in [0, 1]; status ``queued``,
#: ``running``, ``succeeded``…; ETA in seconds, or None when the server has no figure.
Progress = Callable[[float, str, float | None], None]

#: Statuses after which a job never changes.
TERMINAL = frozenset({"succeeded", "failed", "canceled", "expired"})

#: The server sends a keep-alive comment every 15 s; a stream silent for longer is dead.
STREAM_READ_TIMEOUT = 45.0


class PixserveClientError(Exception):
    """The API refused a request or a job failed: ``code`` is the API's stable error code.

    ``status`` is the HTTP status (None for a failed job or a connection problem);
    ``job_id`` the job concerned, when there is one.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        job_id: str | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.status = status
        self.job_id = job_id
        super().__init__(f"{message} ({code})")


class Client:
    """A connection to one pixserve server (``base_url``); use it as a context manager.

    ``timeout`` bounds each request (connect, send, read) in seconds; the wait for a job is
    bounded separately by ``wait(timeout=…)``. ``poll_interval`` is how often it asks for
    the job's status when the events stream is not available. ``transport`` lets tests
    pass an httpx transport.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        poll_interval: float = 0.5,
        reconnects: int = 3,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.reconnects = reconnects
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    # -- the API, one method per call ---------------------------------------------------

    def styles(self) -> list[dict[str, Any]]:
        """The server's styles (``GET /v1/styles``), each a dict as the API gives it."""
        styles: list[dict[str, Any]] = self._json("GET", "/v1/styles")["styles"]
        return styles

    def submit(
        self,
        image: str | os.PathLike[str] | bytes,
        style: str,
        *,
        crop: str | tuple[int, int, int, int] | None = None,
        email: str | None = None,
        webhook_url: str | None = None,
        lang: str | None = None,
        bot_token: str | None = None,
    ) -> dict[str, Any]:
        """Queue ``image`` (a path or the file's bytes) in ``style``; the job as a dict.

        ``crop`` is ``x,y,w,h`` in the upright image (a string or four integers).
        ``bot_token`` is a solved bot check's token, for a server with bot protection on
        (``GET /v1/config`` says which provider).
        """
        name, data = _read_image(image)
        fields = {"style": style}
        if crop is not None:
            fields["crop"] = crop if isinstance(crop, str) else ",".join(str(int(v)) for v in crop)
        optional = {
            "email": email,
            "webhook_url": webhook_url,
            "lang": lang,
            "bot_token": bot_token,
        }
        fields |= {key: value for key, value in optional.items() if value}
        return self._json("POST", "/v1/jobs", files={"file": (name, data)}, data=fields)

    def job(self, job_id: str) -> dict[str, Any]:
        """The job's status now (``GET /v1/jobs/{id}``)."""
        return self._json("GET", f"/v1/jobs/{job_id}")

    def events(self, job_id: str) -> Iterator[dict[str, Any]]:
        """The job as it changes, until it is finished.

        Follows the server-sent events; when the stream drops it reconnects (up to
        ``reconnects`` times in a row), and after that, or when the server does not serve
        events, it polls the job's status instead.
        """
        failures = 0
        last: dict[str, Any] | None = None
        while failures <= self.reconnects:
            try:
                for job in self._stream(job_id):
                    failures = 0
                    last = job
                    yield job
                    if job["status"] in TERMINAL:
                        return
            except (httpx.TransportError, _StreamUnavailable):
                pass
            failures += 1  # ended without a final status, or broke: try again
            time.sleep(min(self.poll_interval * failures, 5.0))
        while True:
            job = self.job(job_id)
            if job != last:
                last = job
                yield job
            if job["status"] in TERMINAL:
                return
            time.sleep(self.poll_interval)

    def wait(
        self,
        job_id: str,
        *,
        progress: Progress | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Wait until the job has succeeded and return it; ``progress`` hears each change.

        A job that failed (or was canceled, or whose result expired) raises
        :class:`PixserveClientError` with the job's error code. ``timeout`` is checked
        whenever the job changes: past it, the error's code is ``timeout`` (the job goes on).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        for job in self.events(job_id):
            if progress is not None:
                progress(float(job.get("progress") or 0.0), job["status"], job.get("eta_seconds"))
            if job["status"] == "succeeded":
                return job
            if job["status"] in TERMINAL:
                raise _job_error(job)
            if deadline is not None and time.monotonic() > deadline:
                raise PixserveClientError(
                    "timeout", f"job {job_id} not finished after {timeout} s", job_id=job_id
                )
        raise PixserveClientError("job_lost", f"job {job_id} ended without a status")

    def result(self, job: str | dict[str, Any]) -> bytes:
        """The finished job's image (the job's ``result_url``, a signed link if it has one)."""
        if isinstance(job, str):
            job = self.job(job)
        url = job.get("result_url") or f"/v1/jobs/{job['id']}/result"
        response = self._send("GET", url, follow_redirects=True)
        return response.content

    def delete(self, job_id: str) -> dict[str, Any]:
        """Cancel the job if it runs, and delete its images and record now."""
        return self._json("DELETE", f"/v1/jobs/{job_id}")

    # -- one call ---------------------------------------------------------------------

    def translate(
        self,
        image: str | os.PathLike[str] | bytes,
        style: str,
        *,
        crop: str | tuple[int, int, int, int] | None = None,
        email: str | None = None,
        bot_token: str | None = None,
        progress: Progress | None = None,
        timeout: float | None = None,
    ) -> bytes:
        """Style ``image`` and return the result's bytes: submit, follow, download.

        ``progress(fraction, status, eta_seconds)`` is called as the job moves.
        """
        job = self.submit(image, style, crop=crop, email=email, bot_token=bot_token)
        done = self.wait(job["id"], progress=progress, timeout=timeout)
        return self.result(done)

    # -- plumbing ---------------------------------------------------------------------

    def _stream(self, job_id: str) -> Iterator[dict[str, Any]]:
        timeout = httpx.Timeout(self.timeout, read=max(self.timeout, STREAM_READ_TIMEOUT))
        headers = {"Accept": "text/event-stream"}
        url = f"/v1/jobs/{job_id}/events"
        with self._http.stream("GET", url, headers=headers, timeout=timeout) as response:
            if response.status_code >= 500 or response.status_code in (404, 405, 406):
                response.read()
                if response.status_code == 404 and _error_code(response) == "job_not_found":
                    raise _http_error(response)
                raise _StreamUnavailable()
            if response.status_code >= 400:
                response.read()
                raise _http_error(response)
            for event, data in parse_events(response.iter_lines()):
                if event == "status":
                    yield json.loads(data)
                elif event == "error":
                    error = json.loads(data).get("error", {})
                    raise PixserveClientError(
                        error.get("code", "internal_error"),
                        error.get("message", ""),
                        job_id=job_id,
                    )

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise PixserveClientError("timeout", f"{method} {url}: {exc}") from exc
        except httpx.TransportError as exc:
            raise PixserveClientError("connection_error", f"{method} {url}: {exc}") from exc
        if response.status_code >= 400:
            raise _http_error(response)
        return response

    def _json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        body: dict[str, Any] = self._send(method, url, **kwargs).json()
        return body


def parse_events(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """``(event, data)`` for each server-sent event in ``lines`` (the text/event-stream format).

    Comments (``:`` lines, the server's keep-alives) are skipped; several ``data:`` lines of
    one event are joined with newlines; an event without ``event:`` is a ``message``.
    """
    event = ""
    data: list[str] = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield event or "message", "\n".join(data)
            event = ""
            data = []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if data:  # a stream cut after the last data line: give what arrived
        yield event or "message", "\n".join(data)


class _StreamUnavailable(Exception):
    """The server answered the events request, but not with events."""


def _read_image(image: str | os.PathLike[str] | bytes) -> tuple[str, bytes]:
    if isinstance(image, bytes | bytearray | memoryview):
        return "image", bytes(image)
    path = Path(image)
    return path.name, path.read_bytes()


def _error_code(response: httpx.Response) -> str | None:
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return str(code)


def _http_error(response: httpx.Response) -> PixserveClientError:
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "http_error", f"HTTP {response.status_code}: {response.text[:200]}"
    return PixserveClientError(code, message, status=response.status_code)


def _job_error(job: dict[str, Any]) -> PixserveClientError:
    error = job.get("error") or {}
    status = job.get("status", "failed")
    code = error.get("code") or ("job_" + status)
    message = error.get("message") or f"the job is {status}"
    return PixserveClientError(code, message, job_id=job.get("id"))
