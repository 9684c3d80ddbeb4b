"""The worker: claim a job, run its style, store the result, finish the job."""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Collection
from contextlib import ExitStack
from dataclasses import replace
from functools import partial
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
from pixserve.domain.render import RenderItem
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


def _shown(beat: Heartbeat) -> Callable[[float], None]:
    """A render's progress as the job's: decoding took the first 5 %, storing the last."""
    return lambda fraction: beat.set_progress(0.05 + 0.9 * fraction)


def new_worker_id() -> str:
    """``host-pid-random``: unique, and says which process on which host holds a job."""
    return f"{host_name()}-{os.getpid()}-{secrets.token_hex(4)}"


class Worker:
    """Claims jobs (one at a time, or a batch of one style whose model takes batches) and
    runs them until ``stop`` is set.

    Stopping never loses a job: the running ones finish, or are handed back to the queue by
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
        #: The jobs claimed and not yet finished: one, or a batch of one style.
        self.running: list[Job] = []
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
        """Claim and process at most one job, or one batch of a style whose model takes
        batches; return whether there was one."""
        self._reclaim_orphans()
        claimed = self.jobs.claim(
            self.worker_id, lease_seconds=self.settings.lease_seconds, styles=self.styles
        )
        if not claimed:
            return False
        batch = self._fill(claimed)
        for job in batch:
            if self.aftercare is not None:
                self.aftercare.started(job)
        if len(batch) == 1:
            self.process(batch[0])
        else:
            self.process_batch(batch)
        return True

    def _fill(self, claimed: list[Job]) -> list[Job]:
        """``claimed``, and where its style runs batches, more queued jobs of that style up
        to its batch limit, waiting at most ``batch_wait`` seconds for them to arrive."""
        batch = list(claimed)
        style = batch[0].style
        limit = self.renderer.batch_limit(style, self.settings.batch_size)
        deadline = time.monotonic() + self.settings.batch_wait
        while len(batch) < limit and not self.stop.is_set():
            self._wake.clear()  # set again by a job queued from now on
            try:
                batch += self.jobs.claim(
                    self.worker_id,
                    lease_seconds=self.settings.lease_seconds,
                    styles={style},
                    limit=limit - len(batch),
                )
            except Unavailable:
                break  # run what we have; the next claim backs off
            left = deadline - time.monotonic()
            if len(batch) >= limit or left <= 0:
                break
            self._wake.wait(left)
        return batch

    def _reclaim_orphans(self) -> None:
        """At start and every ``ORPHAN_CHECK_SECONDS``: jobs of dead workers on this host."""
        now = time.monotonic()
        if now < self._next_orphan_check:
            return
        self._next_orphan_check = now + ORPHAN_CHECK_SECONDS
        reclaim_orphans(self.jobs)

    def release_current(self) -> None:
        """Hand the running jobs back to the queue (shutdown could not wait for them)."""
        for job in list(self.running):
            if self.jobs.release(job.id, self.worker_id):
                log.warning("worker %s handed job %s back to the queue", self.worker_id, job.id)

    @property
    def current(self) -> Job | None:
        """A job this worker is running (the first of its batch), or None when idle."""
        running = self.running
        return running[0] if running else None

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
        self.running = [job]
        with self._heartbeat(job) as beat:
            self._settle(job, partial(self._run_job, job, beat))

    def process_batch(self, jobs: list[Job]) -> None:
        """Run claimed jobs of one style together: each is decoded on its own, the model
        runs once for all whose tensors have the same shape (``Renderer.render_batch``), and
        each is stored and finished on its own, as :meth:`process` does. One job's failure,
        loss or cancellation ends that job only.

        A service that is away hands every unfinished job of the batch back, then raises.
        """
        self.running = list(jobs)
        started = time.monotonic()
        log.info(
            "worker %s runs %d jobs of %s as one batch", self.worker_id, len(jobs), jobs[0].style
        )
        with ExitStack() as stack:
            beats = [stack.enter_context(self._heartbeat(job)) for job in jobs]
            items: list[RenderItem | Exception] = []
            for job, beat in zip(jobs, beats, strict=True):
                try:
                    items.append(RenderItem(self._decode(job, beat), job.crop, _shown(beat)))
                except Exception as exc:
                    items.append(exc)
            ready = [item for item in items if isinstance(item, RenderItem)]
            try:
                rendered = iter(self.renderer.render_batch(jobs[0].style, ready))
            except Exception as exc:  # the style itself cannot run: each job says so
                rendered = iter([exc] * len(ready))
            # The run time ETAs learn from is a job's share of the worker: the shared part
            # (decoding and the model) divided among the batch, plus its own storing. With
            # the whole batch's time each, a queue's ETAs would grow with the batch size.
            share = (time.monotonic() - started) / len(jobs)
            away: Unavailable | None = None
            for job, beat, item in zip(jobs, beats, items, strict=True):
                outcome = item if isinstance(item, Exception) else next(rendered)
                since = time.monotonic() - share  # its share, then its own storing
                try:
                    self._settle(job, partial(self._deliver, job, beat, outcome, since))
                except Unavailable as exc:
                    away = away or exc
        if away is not None:
            raise away

    def _heartbeat(self, job: Job) -> Heartbeat:
        return Heartbeat(
            self.jobs,
            job.id,
            self.worker_id,
            lease_seconds=self.settings.lease_seconds,
            progress_interval=self.settings.progress_interval,
        )

    def _settle(self, job: Job, run: Callable[[], Job]) -> None:
        """Call ``run``, which takes ``job`` to success, and end the job by what it raised:
        a failure, a retry, a hand-back, or nothing if the job was lost."""
        context = logs.job_id.set(job.id)  # every log line of this job carries its id
        ended: Job | None = None
        try:
            ended = run()
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
            self.running = [other for other in self.running if other.id != job.id]
            self.processed += 1
            if self.aftercare is not None:
                self.aftercare.finished(job.id, ended)
            release_free_heap()  # the photo's buffers, or RSS keeps the largest size seen
            logs.job_id.reset(context)

    def _run_job(self, job: Job, beat: Heartbeat) -> Job:
        started = time.monotonic()  # the run time ETAs learn from: claim to stored result
        pixels = self._decode(job, beat)

        def progress(fraction: float) -> None:
            if beat.lost.is_set():
                raise JobLost()
            _shown(beat)(fraction)

        pixels = self.renderer.render(job.style, pixels, crop=job.crop, progress=progress)
        return self._deliver(job, beat, pixels, started)

    def _decode(self, job: Job, beat: Heartbeat) -> np.ndarray:
        """The job's original, upright, as RGB pixels."""
        fit = self.renderer.decode_side(job.style, job.crop)
        decoded = decode_upload(self.blobs.get(job.input_key), self.settings, fit=fit)
        beat.set_progress(0.05)
        return decoded.pixels

    def _deliver(
        self, job: Job, beat: Heartbeat, rendered: np.ndarray | Exception, started: float
    ) -> Job:
        """Store the rendered image (or raise what rendering raised) and finish the job."""
        if isinstance(rendered, Exception):
            raise rendered
        pixels = rendered
        settings = self.settings
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
