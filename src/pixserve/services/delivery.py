"""Delivering the news: queue e-mails and webhook calls for job events, then send them.

Queueing writes rows to the outbox (the job database), so what is queued survives any
worker's death: a job's terminal news (:meth:`DeliveryService.news`) go in with the job's own
finish, in its transaction. Sending claims due rows with a lease, tries once, and either marks
them sent or schedules the next try with exponential backoff. A delivery that fails for good is kept
on the job's record (``GET /v1/jobs/{id}`` shows it); it never changes the job's status.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pixserve.core.errors import BlobNotFound, PixserveError, UnknownStyle
from pixserve.core.settings import Settings
from pixserve.domain.delivery import Channel, Delivery, JobEvent, NewDelivery
from pixserve.domain.job import Job, JobStatus
from pixserve.notify.compose import JobEmail, compose
from pixserve.notify.mail import Mailer, MailError
from pixserve.notify.sender import WebhookError, WebhookSender
from pixserve.notify.webhooks import job_webhook_secret, signed_headers
from pixserve.queue.outbox import Outbox
from pixserve.queue.store import JobStore
from pixserve.services.links import ResultLinks
from pixserve.services.ports import StyleCatalog
from pixserve.storage.base import BlobStore

log = logging.getLogger(__name__)

#: The longest wait between two tries of one delivery.
MAX_BACKOFF_SECONDS = 3600.0
#: How long a sender may hold a claimed delivery before another worker may try it.
SEND_LEASE_SECONDS = 120.0

_TERMINAL_EVENTS = {JobStatus.SUCCEEDED: JobEvent.SUCCEEDED, JobStatus.FAILED: JobEvent.FAILED}


def backoff_seconds(attempts: int, base: float) -> float:
    """The wait after the ``attempts``-th failed try: base, 2·base, 4·base, … ≤ 1 h."""
    return min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


class DeliveryService:
    """Queues and sends a job's e-mails and webhooks."""

    def __init__(
        self,
        jobs: JobStore,
        outbox: Outbox,
        blobs: BlobStore,
        catalog: StyleCatalog,
        links: ResultLinks,
        settings: Settings,
        *,
        secret: bytes,
        mailer: Mailer | None,
        webhooks: WebhookSender,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.jobs = jobs
        self.outbox = outbox
        self.blobs = blobs
        self.catalog = catalog
        self.links = links
        self.settings = settings
        self.secret = secret
        self.mailer = mailer
        self.webhooks = webhooks
        self.clock = clock

    # -- queueing ----------------------------------------------------------------------------

    def webhook_secret(self, job_id: str) -> str:
        """The ``whsec_…`` secret the job's webhooks are signed with."""
        return self.settings.webhook_secret or job_webhook_secret(self.secret, job_id)

    def job_started(self, job: Job) -> None:
        """Queue ``job.running`` for the job's webhook (one try: it is news, not a promise)."""
        if job.webhook_url:
            self.outbox.add(self._webhook(job, JobEvent.RUNNING, max_attempts=1))

    def news(self, job: Job) -> list[NewDelivery]:
        """The e-mail and the terminal webhook announcing a succeeded or failed ``job`` (none
        for other statuses), for the job's finish to queue in its own transaction.

        ``job`` may be the row a running job is about to become: without a ``finished_at``,
        its links are cut at the result's deletion as if it finished now.
        """
        event = _TERMINAL_EVENTS.get(job.status)
        if event is None:
            return []
        if job.finished_at is None:
            job = replace(job, finished_at=self.clock())
        attempts = self.settings.notify_max_attempts
        found = []
        if job.email and self.mailer is not None:
            found.append(
                NewDelivery(
                    job_id=job.id,
                    channel=Channel.EMAIL,
                    event=event,
                    target=job.email,
                    max_attempts=attempts,
                )
            )
        if job.webhook_url:
            found.append(self._webhook(job, event, max_attempts=attempts))
        return found

    def job_finished(self, job: Job) -> None:
        """Queue the news of a succeeded or failed job whose finish did not (it finished
        before this version, or where no news were built), with its notified mark, once."""
        if job.status in _TERMINAL_EVENTS and job.notified_at is None:
            self.jobs.mark_notified(job.id, self.news(job))

    def sweep(self, limit: int = 100) -> int:
        """Queue the news of finished jobs that have none queued (see :meth:`job_finished`);
        how many jobs."""
        found = self.jobs.find_finished(
            statuses=_TERMINAL_EVENTS.keys(), unnotified=True, limit=limit
        )
        for job in found:
            self.job_finished(job)
        return len(found)

    def _webhook(self, job: Job, event: JobEvent, *, max_attempts: int) -> NewDelivery:
        assert job.webhook_url is not None
        data: dict[str, Any] = {"id": job.id, "style": job.style, "status": event.value[4:]}
        if event is JobEvent.SUCCEEDED:
            data["result_url"] = self.links.url(job, "result")
            if job.preview_key:
                data["preview_url"] = self.links.url(job, "preview")
            data["expires_at"] = _iso(self.links.expires_at(job))
        if event is JobEvent.FAILED:
            data["error"] = {"code": job.error_code, "message": job.error_message}
        body = {"type": event.value, "timestamp": _iso(self.clock()), "data": data}
        # The exact bytes are stored, so every retry sends (and signs) the same body.
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        return NewDelivery(
            job_id=job.id,
            channel=Channel.WEBHOOK,
            event=event,
            target=job.webhook_url,
            payload={"body": text},
            max_attempts=max_attempts,
        )

    # -- sending -----------------------------------------------------------------------------

    def send_due(self, worker_id: str, limit: int = 10) -> int:
        """Try every due delivery once (up to ``limit``); how many were tried."""
        claimed = self.outbox.claim_due(worker_id, lease_seconds=SEND_LEASE_SECONDS, limit=limit)
        for delivery in claimed:
            self._try(delivery)
        return len(claimed)

    def _try(self, delivery: Delivery) -> None:
        try:
            if delivery.channel is Channel.EMAIL:
                self._send_email(delivery)
            else:
                self._send_webhook(delivery)
        except _GiveUp as exc:
            log.info("delivery %s (%s) dropped: %s", delivery.id, delivery.channel, exc)
            self.outbox.mark_failed(delivery.id, error=str(exc), retry_at=None)
            return
        except (MailError, WebhookError, PixserveError, OSError) as exc:
            error = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            final = delivery.attempts >= delivery.max_attempts
            retry_at = None
            if not final:
                wait = backoff_seconds(delivery.attempts, self.settings.notify_backoff_seconds)
                retry_at = self.clock() + timedelta(seconds=wait)
            log.warning(
                "%s %s for job %s failed (try %d of %d): %s",
                delivery.channel.value,
                delivery.event.value,
                delivery.job_id,
                delivery.attempts,
                delivery.max_attempts,
                error,
            )
            self.outbox.mark_failed(delivery.id, error=error[:2000], retry_at=retry_at)
            return
        self.outbox.mark_sent(delivery.id)
        log.info("%s %s for job %s sent", delivery.channel, delivery.event, delivery.job_id)

    def _send_webhook(self, delivery: Delivery) -> None:
        body = str(delivery.payload.get("body", "")).encode()
        headers = signed_headers(
            self.webhook_secret(delivery.job_id), delivery.id, body, now=time.time()
        )
        self.webhooks.post(delivery.target, body, headers)

    def _send_email(self, delivery: Delivery) -> None:
        if self.mailer is None:
            raise _GiveUp("no SMTP server is configured (PIXSERVE_SMTP_URL)")
        job = self.jobs.get(delivery.job_id)
        if job is None:
            raise _GiveUp("the job was deleted")
        succeeded = delivery.event is JobEvent.SUCCEEDED
        if succeeded and job.status is not JobStatus.SUCCEEDED:
            raise _GiveUp(f"the job is {job.status.value}; its result is gone")
        self.mailer.send(compose(self._email(job, delivery.target, succeeded)))

    def _email(self, job: Job, to: str, succeeded: bool) -> JobEmail:
        site = self.links.public_url
        preview, preview_url = None, None
        if succeeded and job.preview_key:
            preview_url = self.links.url(job, "preview")
            try:
                preview = self.blobs.get(job.preview_key)
            except BlobNotFound:
                preview = None
        return JobEmail(
            to=to,
            sender=self.settings.mail_from or f"pixserve <noreply@{self.links.public_host}>",
            lang=job.lang,
            succeeded=succeeded,
            style_title=self._title(job.style, job.lang),
            site_url=site + "/",
            privacy_url=site + "/privacy",
            result_url=self.links.url(job, "result") if succeeded else None,
            preview_url=preview_url,
            expires_at=self.links.expires_at(job) if succeeded else None,
            error_code=None if succeeded else job.error_code,
            preview=preview,
        )

    def _title(self, style: str, lang: str) -> str:
        try:
            return str(self.catalog.get(style).info(lang).get("title") or style)
        except UnknownStyle:
            return style


class _GiveUp(Exception):
    """Trying again cannot help (the job or its result is gone)."""


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")
