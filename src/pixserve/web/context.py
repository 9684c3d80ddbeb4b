"""Everything the web app is built from, made by the composition root (or by a test)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from fastapi import Request

from pixserve.core.settings import Settings
from pixserve.services import FaceService, JobService, StyleCatalog, TranslateService
from pixserve.services.intake import IntakeService
from pixserve.services.retention import RetentionPolicy


class Lifecycle(Protocol):
    """Something the app starts with itself and stops on shutdown (in-process workers)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class AppContext:
    """The services one app instance serves, and what it runs beside them.

    ``checks`` are readiness probes by name (each raises if not ready); ``metrics`` renders
    extra Prometheus lines; ``close`` releases connections on shutdown.
    """

    settings: Settings
    jobs: JobService
    translate: TranslateService
    catalog: StyleCatalog
    checks: dict[str, Callable[[], None]] = field(default_factory=dict)
    background: Sequence[Lifecycle] = ()
    close: Callable[[], None] | None = None
    #: What the privacy page and ``/v1/config`` promise (from the settings if None).
    retention: RetentionPolicy | None = None
    email_enabled: bool = False
    #: Style name → the engine its model runs on (``/v1/styles``, ``/metrics``).
    engines: Callable[[], Mapping[str, Mapping[str, object]]] | None = None
    #: (style, width, height) → the result's (width, height), from the style's pipeline.
    output_size: Callable[[str, int, int], tuple[int, int] | None] | None = None
    #: ``POST /v1/faces``; None on a node without a face detector (503).
    faces: FaceService | None = None
    #: Pause, budget and queue per style (issue #14); None: intake always open.
    intake: IntakeService | None = None
    #: Registers a callback told each job a worker ends (``JobStore.watch_moves``: this
    #: process's workers, and on PostgreSQL every process's), so the app shows it at once.
    watch_moves: Callable[[Callable[[str], None]], Callable[[], None]] | None = None

    def engine_info(self) -> Mapping[str, Mapping[str, object]]:
        return self.engines() if self.engines is not None else {}

    def result_size(self, style: str, width: int, height: int) -> tuple[int, int] | None:
        """What ``style`` makes of a ``width``×``height`` picture; None if unknown here."""
        return self.output_size(style, width, height) if self.output_size is not None else None

    def policy(self) -> RetentionPolicy:
        """The retention promise this app states."""
        return self.retention or RetentionPolicy.of(self.settings)


async def get_context(request: Request) -> AppContext:
    """FastAPI dependency: the context of the app serving ``request``.

    ``async`` so FastAPI runs it on the event loop: a plain ``def`` dependency costs a
    thread-pool hand-off on every request, about a tenth of a status call's time.
    """
    ctx: AppContext = request.app.state.ctx
    return ctx
