"""The worker: claim a job, run its style, store the result, finish the job."""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Collection
from dataclasses import replace
from typing import Any

import numpy as np

from pixserve.core import logs
from pixserve.core.errors import (
    BlobNotFound,
    ImageError,
    InvalidRequest,
    NotFound,
    PixserveError,
    Unavailable,
)
from pixserve.core.memory import release_free_heap
from pixserve.core.settings import Settings
from pixserve.domain.delivery import NewDelivery
from pixserve.domain.job import Job, JobStatus
from pixserve.imaging import ImageFormat, encode_image
from pixserve.queue.store import JobStore
from pixserve.services import keys
from pixserve.services.aftercare import Aftercare
from pixserve.services.ports import Renderer
from pixserve.services.uploads import decode_upload
from pixserve.storage.base import BlobStore
from pixserve.worker.heartbeat import Heartbeat
from pixserve.worker.orphans import host_name, reclaim_orphans, remember

log = logging.getLogger(__name__)

#: Errors caused by the job itself: running it again would fail the same way.
PERMANENT_ERRORS: tuple[type[PixserveError], ...] = (
    ImageError,
    InvalidRequest,
    NotFound,
    BlobNotFound,
)


#: JPEG quality of previews: they are small and watermarked, so size matters more.
PREVIEW_QUALITY = 85
#: How often a worker looks for running jobs whose worker on this host has died.
ORPHAN_CHECK_SECONDS = 10.0


class JobLost(Exception):
    """This worker no longer owns the job; its work must be thrown away."""


def new_worker_id() -> str:
    """``host-pid-random``: unique, and says which process on which host holds a job."""
    return f"{host_name()}-{os.getpid()}-{secrets.token_hex(4)}"


class Worker:
    """Claims jobs one at a time and runs them until ``stop`` is set.

    Stopping never loses a job: the running one finishes, or is handed back to the queue by
    :meth:`release_current` when the caller cannot wait any longer.
    """

    def __init__(
        self,
        jobs: JobStore,
        blobs: BlobStore,
        renderer: Renderer,
        settings: Settings,
        *,
        worker_id: str | None = None,
        styles: Collection[str] | None = None,
        aftercare: Aftercare | None = None,
    ) -> None:
        self.jobs = jobs
        self.blobs = blobs
        self.renderer = renderer
        self.settings = settings
        self.worker_id = worker_id or new_worker_id()
        remember(self.worker_id)
        self._next_orphan_check = 0.0
        self.styles = set(styles) if styles else None
        self.aftercare = aftercare
        self.stop = threading.Event()
        self.current: Job | None = None
        self.processed = 0
        # Set by the store when jobs may be waiting, and by request_stop: idle workers sleep
        # on it, so a new job starts at once and the poll interval is only a fallback.
        self._wake = threading.Event()

    def request_stop(self) -> None:
        """Stop claiming; an idle worker notices at once, a running job goes on."""
        self.stop.set()
        self._wake.set()

    def run(self) -> None:
        """Loop until ``stop`` is set: claim, process, repeat; back off while the DB is away."""
        log.info("worker %s started", self.worker_id)
        backoff = self.settings.poll_interval
        unwatch = self.jobs.watch(self._wake)
        try:
            while not self.stop.is_set():
                # Cleared before claiming: a job enqueued during the claim wakes us again.
                self._wake.clear()
                try:
                    claimed = self.run_once()
                    backoff = self.settings.poll_interval
                except Unavailable as exc:
                    log.warning(
                        "worker %s: %s; retrying in %.1fs", self.worker_id, exc.message, backoff
                    )
                    self.stop.wait(backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                if not claimed:
                    self._wake.wait(backoff)
        finally:
            unwatch()
        log.info("worker %s stopped after %d jobs", self.worker_id, self.processed)

    def run_once(self) -> bool:
        """Claim and process at most one job; return whether there was one."""
        self._reclaim_orphans()
        claimed = self.jobs.claim(
            self.worker_id, lease_seconds=self.settings.lease_seconds, styles=self.styles
        )
        if not claimed:
            return False
        for job in claimed:
            if self.aftercare is not None:
                self.aftercare.started(job)
            self.process(job)
        return True

    def _reclaim_orphans(self) -> None:
        """At start and every ``ORPHAN_CHECK_SECONDS``: jobs of dead workers on this host."""
        now = time.monotonic()
        if now < self._next_orphan_check:
            return
        self._next_orphan_check = now + ORPHAN_CHECK_SECONDS
        reclaim_orphans(self.jobs)

    def release_current(self) -> None:
        """Hand the running job back to the queue (shutdown could not wait for it)."""
        job = self.current
        if job is not None and self.jobs.release(job.id, self.worker_id):
            log.warning("worker %s handed job %s back to the queue", self.worker_id, job.id)

    def _news(self, job: Job, **ending: Any) -> list[NewDelivery] | None:
        """The deliveries announcing the job once its finish sets ``ending``, for that very
        finish to queue (None: this worker builds none; the housekeeper's sweep will)."""
        if self.aftercare is None:
            return None
        return self.aftercare.news(replace(job, **ending))

    def _succeed(self, job: Job, **result: Any) -> Job | None:
        """``succeed`` with ``result`` and the success's news, retried with backoff while the
        database is away (until ``stop``); the succeeded job, or None if it was lost.

        A retry may find the job already succeeded with this very key: an earlier try
        committed but its answer was lost with the connection. That is a success, not a loss.
        """
        news = self._news(
            job,
            status=JobStatus.SUCCEEDED,
            result_key=result["result_key"],
            preview_key=result["preview_key"],
        )
        delay = self.settings.poll_interval
        while True:
            try:
                done = self.jobs.succeed(job.id, self.worker_id, news=news, **result)
                if done is not None:
                    return done
                current = self.jobs.get(job.id)
                ours = current is not None and current.result_key == result["result_key"]
                return current if ours else None
            except Unavailable:
                if self.stop.is_set():
                    raise
                log.warning("job %s: database unavailable, finishing in %.1fs", job.id, delay)
                self.stop.wait(delay)
                delay = min(delay * 2, 10.0)

    def _fail(self, job: Job, code: str, message: str, *, retry: bool = False) -> Job | None:
        """End the job as failed (or, with ``retry``, re-queue it while attempts remain), with
        the failure's news; the job as it is now, or None if it was lost."""
        news = self._news(job, status=JobStatus.FAILED, error_code=code, error_message=message)
        move = self.jobs.retry if retry else self.jobs.fail
        return move(job.id, self.worker_id, code=code, message=message, news=news)

    def process(self, job: Job) -> None:
        """Run one claimed job to a terminal status, a retry, or a discard if it was lost."""
        self.current = job
        context = logs.job_id.set(job.id)  # every log line of this job carries its id
        ended: Job | None = None
        try:
            with Heartbeat(
                self.jobs,
                job.id,
                self.worker_id,
                lease_seconds=self.settings.lease_seconds,
                progress_interval=self.settings.progress_interval,
            ) as beat:
                ended = self._run_job(job, beat)
        except JobLost:
            log.info("job %s was canceled or taken over; result discarded", job.id)
        except Unavailable:
            # Storage (or the database) is away: not the job's fault, so no attempt is spent.
            # Otherwise a short outage used up every job's attempts within a second each
            # and failed the whole queue. The job goes back; ``run`` backs off before the
            # next claim.
            if self.jobs.release(job.id, self.worker_id):
                log.warning("job %s handed back: a service it needs is unavailable", job.id)
            raise
        except PERMANENT_ERRORS as exc:
            log.info("job %s failed: %s (%s)", job.id, exc.message, exc.code)
            ended = self._fail(job, exc.code, exc.message)
        except PixserveError as exc:
            log.warning("job %s attempt %d failed: %s", job.id, job.attempts, exc.message)
            ended = self._fail(job, exc.code, exc.message, retry=True)
        except Exception:
            log.exception("job %s attempt %d crashed", job.id, job.attempts)
            message = "An unexpected error stopped this image; it will be retried."
            ended = self._fail(job, "internal_error", message, retry=True)
        finally:
            self.current = None
            self.processed += 1
            if self.aftercare is not None:
                self.aftercare.finished(job.id, ended)
            release_free_heap()  # the photo's buffers, or RSS keeps the largest size seen
            logs.job_id.reset(context)

    def _run_job(self, job: Job, beat: Heartbeat) -> Job:
        settings = self.settings
        started = time.monotonic()  # the run time ETAs learn from: claim to stored result
        data = self.blobs.get(job.input_key)
        decoded = decode_upload(data, settings)
        beat.set_progress(0.05)

        def progress(fraction: float) -> None:
            if beat.lost.is_set():
                raise JobLost()
            beat.set_progress(0.05 + 0.9 * fraction)

        pixels = self.renderer.render(job.style, decoded.pixels, crop=job.crop, progress=progress)
        fmt = ImageFormat(settings.result_format)
        body = encode_image(pixels, fmt, quality=settings.result_quality)
        if beat.lost.is_set():
            raise JobLost()
        preview_key = self._store_preview(job, pixels)
        key = keys.result_key(job.id, job.attempts, self.worker_id, fmt.extension)
        self.blobs.put(key, body)
        done = self._succeed(
            job,
            result_key=key,
            content_type=fmt.content_type,
            result_size=(int(pixels.shape[1]), int(pixels.shape[0])),
            run_seconds=time.monotonic() - started,
            preview_key=preview_key,
        )
        if done is None:
            self.blobs.delete(key)
            if preview_key:
                self.blobs.delete(preview_key)
            raise JobLost()
        log.info("job %s succeeded (%s)", job.id, job.style)
        return done

    def _store_preview(self, job: Job, pixels: np.ndarray) -> str | None:
        """Store the style's preview of ``pixels`` (always JPEG), if it declares one; the
        success records its key."""
        preview = self.renderer.preview(job.style, pixels)
        if preview is None:
            return None
        body = encode_image(preview, ImageFormat.JPEG, quality=PREVIEW_QUALITY)
        key = keys.preview_key(job.id, job.attempts, self.worker_id)
        self.blobs.put(key, body)
        return key
