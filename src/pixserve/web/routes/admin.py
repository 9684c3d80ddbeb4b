"""The operator's endpoints and page, behind ``PIXSERVE_ADMIN_TOKEN``.

``GET /v1/admin/stats`` (queue depth per style, jobs accepted and failures per hour for the
last 24 hours, intake state, budget used), ``POST /v1/admin/pause`` and ``/resume``; each
needs ``Authorization: Bearer <token>``, compared in constant time (401 otherwise). With no
token configured they, and the page at ``/admin``, answer 404: they do not exist.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from pixserve.core.errors import AdminUnauthorized, NotFound
from pixserve.services.intake import IntakeService
from pixserve.web.context import AppContext, get_context
from pixserve.web.pages import render
from pixserve.web.schemas import ErrorBody

router = APIRouter(tags=["admin"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "The token is missing or wrong."},
    404: {"model": ErrorBody, "description": "Operator endpoints are off (no token set)."},
}


def _enabled(ctx: AppContext) -> IntakeService:
    if not ctx.settings.admin_token or ctx.intake is None:
        raise NotFound()
    return ctx.intake


def operator(
    authorization: str | None = Header(None, description="Bearer <PIXSERVE_ADMIN_TOKEN>"),
    ctx: AppContext = Depends(get_context),
) -> IntakeService:
    """Dependency: the intake service, for a request carrying the operator's token."""
    intake = _enabled(ctx)
    scheme, _, given = (authorization or "").partition(" ")
    expected = (ctx.settings.admin_token or "").encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        raise AdminUnauthorized()
    return intake


class PauseIn(BaseModel):
    note: str | None = Field(None, max_length=500, description="Why (shown to operators).")


@router.get("/v1/admin/stats", responses=_ERRORS)
async def stats(intake: IntakeService = Depends(operator)) -> dict[str, Any]:
    """Queue depth per style, jobs and failures per hour (24 h), intake state, budget used."""
    return await run_in_threadpool(intake.stats)


@router.post("/v1/admin/pause", responses=_ERRORS)
async def pause(
    body: PauseIn | None = None, intake: IntakeService = Depends(operator)
) -> dict[str, Any]:
    """Stop taking new jobs on every node (queued jobs still run)."""
    switch = await run_in_threadpool(intake.pause, body.note if body else None)
    return {"paused": switch.paused, "note": switch.note}


@router.post("/v1/admin/resume", responses=_ERRORS)
async def resume(intake: IntakeService = Depends(operator)) -> dict[str, Any]:
    """Take new jobs again."""
    switch = await run_in_threadpool(intake.resume)
    return {"paused": switch.paused, "note": switch.note}


@router.get("/admin", response_class=HTMLResponse, include_in_schema=False)
def admin_page(request: Request, ctx: AppContext = Depends(get_context)) -> HTMLResponse:
    """The operator page (English): asks for the token, then shows stats and the switch."""
    _enabled(ctx)
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
    return HTMLResponse(render("admin.html"), headers=headers)
