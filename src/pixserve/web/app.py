"""The FastAPI application factory. Nothing is built at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

import pixserve
from pixserve.web.body_limit import BodyLimit
from pixserve.web.bots import install_bot_check, widget_origins
from pixserve.web.context import AppContext, Lifecycle
from pixserve.web.errors import install_error_handlers
from pixserve.web.limits import SubmissionGate
from pixserve.web.openapi import install_openapi
from pixserve.web.request_id import RequestId
from pixserve.web.routes import admin, docs, faces, health, jobs, privacy, styles, translate, ui
from pixserve.web.security import cors_origins, install_security
from pixserve.web.watch import hub_of

log = logging.getLogger(__name__)


def create_app(ctx: AppContext) -> FastAPI:
    """Build the app around ``ctx``; its lifespan starts and stops ``ctx.background``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        unwatch = ctx.watch_moves(hub_of(app).moved) if ctx.watch_moves is not None else None
        started: list[Lifecycle] = []
        try:
            for service in ctx.background:
                service.start()
                started.append(service)
            yield
        finally:  # also when a service failed to start: those started stop again
            for service in started:
                service.stop()
            if unwatch is not None:
                unwatch()
            if ctx.close is not None:
                ctx.close()

    app = FastAPI(
        title="pixserve",
        version=pixserve.__version__,
        description="Image-to-image styles as a service: submit a photo, watch it, fetch it.",
        lifespan=lifespan,
        docs_url=None,  # web/routes/docs.py serves Swagger UI from /static/vendor, not a CDN
        redoc_url=None,
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    install_openapi(app)  # forms say what they require
    for module in (styles, jobs, faces, translate, health, privacy, ui, docs):
        app.include_router(module.router)
    app.mount("/static", _Revalidated(directory=ui.STATIC_DIR), name="static")
    # Issue #14, intake: uploads cut off while they stream; the operator's endpoints.
    app.add_middleware(BodyLimit, settings=ctx.settings)
    app.add_middleware(SubmissionGate)  # rate limit, pause, budget: before a body is read
    app.include_router(admin.router)
    # Issue #14, bot protection: the verifier (web/bots.py); its widget's origin joins the CSP.
    install_bot_check(app, ctx.settings)
    # Issue #14, security: CSP, nosniff, no framing, CORS. Added last, so outermost: every
    # answer carries the headers, those other middleware write themselves (413s) too.
    install_security(
        app,
        cors_origins(ctx.settings.cors_origins),
        widget_origins=widget_origins(ctx.settings),
    )
    # Issue #14, observability: a request id in every log line and in X-Request-ID. Added
    # after the others, so outermost: their answers and their log lines carry it too.
    app.add_middleware(RequestId)
    if not (ui.STATIC_DIR / "vendor").is_dir():
        log.warning("%s/vendor is missing: the page and /docs need `make vendor`", ui.STATIC_DIR)
    return app


class _Revalidated(StaticFiles):
    """Static files a browser revalidates (ETag) before use, so after an upgrade the page's
    ES modules, which import each other without version tags, all arrive new together."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.setdefault("Cache-Control", "no-cache")
        return response
