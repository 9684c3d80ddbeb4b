"""The FastAPI application factory. Nothing is built at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import pixserve
from pixserve.web.context import AppContext
from pixserve.web.errors import install_error_handlers
from pixserve.web.routes import health, jobs, privacy, styles, translate, ui

log = logging.getLogger(__name__)


def create_app(ctx: AppContext) -> FastAPI:
    """Build the app around ``ctx``; its lifespan starts and stops ``ctx.background``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for service in ctx.background:
            service.start()
        try:
            yield
        finally:
            for service in ctx.background:
                service.stop()
            if ctx.close is not None:
                ctx.close()

    app = FastAPI(
        title="pixserve",
        version=pixserve.__version__,
        description="Image-to-image styles as a service: submit a photo, watch it, fetch it.",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    for module in (styles, jobs, translate, health, privacy, ui):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=ui.STATIC_DIR), name="static")
    return app
