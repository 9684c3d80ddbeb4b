"""The composition root: builds stores, catalog, renderer, services and workers from settings.

Like ``cli``, this module may import every layer; no other module does. Everything is built
here on demand (never at import), so tests can build their own runtime or swap parts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pixserve.core.hardware import this_cpu
from pixserve.core.memory import map_large_blocks, release_free_heap
from pixserve.core.settings import Settings
from pixserve.inference.cache import EngineCache, EnginePolicy
from pixserve.notify import HttpWebhookSender, LinkSigner, load_secret, open_mailer
from pixserve.pipeline.catalog import Catalog
from pixserve.pipeline.faces import make_detector
from pixserve.pipeline.renderer import Renderer
from pixserve.queue import migrate
from pixserve.queue.factory import open_job_store
from pixserve.queue.intake_sql import open_intake_store
from pixserve.queue.outbox import Outbox
from pixserve.queue.outbox_sql import open_outbox
from pixserve.queue.store import JobStore
from pixserve.services import FaceService, JobService, TranslateService
from pixserve.services.aftercare import Aftercare
from pixserve.services.delivery import DeliveryService
from pixserve.services.intake import IntakeService
from pixserve.services.links import ResultLinks
from pixserve.services.reconcile import Reconciler
from pixserve.services.retention import RetentionPolicy, RetentionService
from pixserve.storage.base import BlobStore
from pixserve.storage.factory import open_blob_store
from pixserve.storage.s3_options import S3Options
from pixserve.worker import Housekeeper, Worker, WorkerPool, new_worker_id

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """One process's view of pixserve: its stores, styles, renderer and use cases."""

    settings: Settings
    jobs: JobStore
    blobs: BlobStore
    catalog: Catalog
    renderer: Renderer
    service: JobService
    translate: TranslateService
    faces: FaceService
    outbox: Outbox
    deliveries: DeliveryService
    retention: RetentionService
    aftercare: Aftercare
    reconciler: Reconciler
    #: Pause, budget and queue per style (issue #14).
    intake: IntakeService | None = None

    def close(self) -> None:
        """Release database connections."""
        if self.intake is not None:
            self.intake.store.close()
        self.outbox.close()
        self.jobs.close()


def engine_policy(settings: Settings, workers: int) -> EnginePolicy:
    """The engine settings, with threads shared out: workers × threads ≤ cores."""
    threads = settings.engine_threads or max(1, this_cpu().cores // max(1, workers))
    return EnginePolicy(
        engine=settings.engine,
        precision=settings.precision,
        min_psnr=settings.min_psnr,
        threads=threads,
        cache_dir=settings.data_dir / "engines",
        run_memory_mb=settings.run_memory_mb or None,
    )


def build_runtime(
    settings: Settings,
    *,
    warm: bool = True,
    workers: int | None = None,
    background: bool = False,
) -> Runtime:
    """Open the stores (upgrading the schema if ``auto_migrate``), load styles, warm models.

    ``workers`` is how many in-process workers will share the cores (default
    ``settings.workers``): each model run gets an equal share of threads. With
    ``background``, a restart warms the models in a thread while the caller goes on
    (``serve`` imports the web app meanwhile: OpenVINO compiles without holding the GIL);
    ``/readyz`` says ready once they are warm (``Renderer.check_warm``).
    """
    map_large_blocks()  # a photo's arrays go back to the OS when freed (core/memory.py)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    if settings.auto_migrate:
        migrate.upgrade(url)
    jobs = open_job_store(url)
    blobs = open_blob_store(settings.resolved_storage_url, s3=s3_options(settings))
    catalog = Catalog.load(settings.style_dirs).only(settings.style_patterns)
    renderer = Renderer(
        catalog,
        EngineCache(
            policy=engine_policy(settings, settings.workers if workers is None else workers)
        ),
        model_dir=settings.data_dir / "models",
        vgg_path=settings.vgg_path,
    )
    if warm:

        def warm_models() -> None:
            renderer.warm()
            release_free_heap()  # what probing the engines allocated and dropped

        # Not on a first start: it times engines on probes, which must not share the
        # cores with the caller's imports.
        if background and renderer.engines.remembers_decisions():
            threading.Thread(target=warm_models, name="warm-models", daemon=True).start()
        else:
            warm_models()
    log.info("%d styles: %s", len(catalog), ", ".join(catalog.names()))
    secret = load_secret(settings.secret_key, settings.data_dir)
    outbox = open_outbox(url)
    links = ResultLinks(LinkSigner(secret), settings, blobs)
    mailer = open_mailer(settings.smtp_url)
    deliveries = DeliveryService(
        jobs,
        outbox,
        blobs,
        catalog,
        links,
        settings,
        secret=secret,
        mailer=mailer,
        webhooks=HttpWebhookSender(
            allow_private=settings.webhook_allow_private,
            timeout=settings.webhook_timeout_seconds,
        ),
    )
    retention = RetentionService(jobs, blobs, outbox, settings)
    intake = IntakeService(open_intake_store(url), jobs, settings)  # issue #14
    service = JobService(
        jobs,
        blobs,
        catalog,
        settings,
        links=links,
        outbox=outbox,
        email_enabled=mailer is not None,
        webhook_secret=None if settings.webhook_secret else deliveries.webhook_secret,
        eta_cache_seconds=settings.eta_cache_seconds,  # status for crowds (issue #14)
        intake=intake,
    )
    return Runtime(
        settings=settings,
        jobs=jobs,
        blobs=blobs,
        catalog=catalog,
        renderer=renderer,
        service=service,
        translate=TranslateService(service, settings),
        # The face step's detector (yuface if installed, else Haar), built on first use.
        faces=FaceService(make_detector, settings),
        outbox=outbox,
        deliveries=deliveries,
        retention=retention,
        aftercare=Aftercare(jobs, deliveries=deliveries, retention=retention),
        reconciler=Reconciler(jobs, blobs),
        intake=intake,
    )


def s3_options(settings: Settings) -> S3Options:
    """How to reach S3 for an ``s3://`` storage URL (unset fields: the AWS defaults)."""
    return S3Options(
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
    )


def build_pool(runtime: Runtime, size: int, *, styles: Collection[str] | None = None) -> WorkerPool:
    """``size`` workers sharing the runtime's stores and warm renderer."""

    def make(_: int) -> Worker:
        return Worker(
            runtime.jobs,
            runtime.blobs,
            runtime.renderer,
            runtime.settings,
            styles=styles,
            aftercare=runtime.aftercare,
        )

    housekeeper = Housekeeper(
        new_worker_id(),
        deliveries=runtime.deliveries,
        retention=runtime.retention,
        poll_seconds=runtime.settings.poll_interval,
        cleanup_interval=runtime.settings.cleanup_interval_seconds,
    )
    return WorkerPool(
        make,
        size,
        grace_seconds=runtime.settings.shutdown_grace_seconds,
        housekeeper=housekeeper,
    )


def build_app(runtime: Runtime, *, workers: int | None = None) -> FastAPI:
    """The web app over ``runtime``, running ``workers`` in-process workers beside it."""
    from pixserve.web.app import create_app  # here: a background warm-up overlaps it
    from pixserve.web.context import AppContext

    size = runtime.settings.workers if workers is None else workers
    background = [build_pool(runtime, size)] if size > 0 else []
    ctx = AppContext(
        settings=runtime.settings,
        jobs=runtime.service,
        translate=runtime.translate,
        catalog=runtime.catalog,
        checks={
            "database": runtime.jobs.ping,
            "storage": runtime.blobs.ping,
            "models": runtime.renderer.check_warm,
        },
        background=background,
        close=runtime.close,
        retention=RetentionPolicy.of(runtime.settings),
        email_enabled=runtime.service.email_enabled,
        engines=runtime.renderer.engines_by_style,
        output_size=runtime.renderer.output_size,
        faces=runtime.faces,
        intake=runtime.intake,
        watch_moves=runtime.jobs.watch_moves,
    )
    return create_app(ctx)
