"""``/v1/jobs``: submit, watch (poll or server-sent events), fetch the result, delete."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, File, Form, Header, Request, Response, UploadFile
from fastapi.responses import RedirectResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from pixserve.core.errors import PixserveError
from pixserve.services import JobView, Result
from pixserve.web.bots import BOT_CHECK, BOT_CHECK_RESPONSE
from pixserve.web.context import AppContext, get_context
from pixserve.web.pages import language_of
from pixserve.web.routes.uploads import read_submission
from pixserve.web.schemas import DeletedOut, ErrorBody, JobOut
from pixserve.web.watch import hub_of

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

EVENT_POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0

_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (404, 409, 413, 415, 422, 503)
}

#: A result's link: signed where the style makes a preview, and only as long as it is kept.
_LINK_ERRORS: dict[int | str, dict[str, object]] = {
    403: {"model": ErrorBody, "description": "`link_required` or `link_invalid`."},
    410: {"model": ErrorBody, "description": "`link_expired` or `result_expired`."},
}


@router.post(
    "",
    status_code=202,
    response_model=JobOut,
    responses={
        **_ERRORS,
        **BOT_CHECK_RESPONSE,
        408: {"model": ErrorBody, "description": "`request_timeout`: the upload was too slow."},
        429: {"model": ErrorBody},
    },
    # rate limit, pause, budget: checked on the headers (web/limits.py); then the bot check
    dependencies=BOT_CHECK,
)
async def submit_job(
    request: Request,
    response: Response,
    file: UploadFile = File(..., description="The photo (JPEG, PNG, WebP, AVIF, GIF, BMP, TIFF)."),
    style: str = Form(..., description="A style name from GET /v1/styles."),
    crop: str | None = Form(None, description="x,y,w,h in the upright image."),
    email: str | None = Form(None, description="Send the result (or the failure) here."),
    webhook_url: str | None = Form(
        None, description="POST signed job.running/succeeded/failed events here."
    ),
    lang: str | None = Form(None, description="Language of the e-mail: en or es."),
    accept_language: str | None = Header(None, include_in_schema=False),
    ctx: AppContext = Depends(get_context),
) -> JobOut:
    """Queue one image; answer at once with the job's id and where to watch it."""
    submission = await read_submission(
        request,
        file,
        ctx.settings.max_upload_bytes,
        style=style,
        crop=crop,
        email=email,
        webhook_url=webhook_url,
        lang=lang,
        accept_language=accept_language,
    )
    view = await run_in_threadpool(ctx.jobs.submit, submission)
    body = JobOut.of(view, language_of(request))
    if webhook_url:
        body.webhook_secret = ctx.jobs.webhook_secret(view)
    response.headers["Location"] = body.status_url
    return body


@router.get("/{job_id}", response_model=JobOut, responses=_ERRORS)
async def get_job(
    job_id: str, request: Request, ctx: AppContext = Depends(get_context)
) -> Response:
    """The job's status, queue position, ETA, progress and, when done, its result URL.

    At most 1.5 × ``event_poll_seconds`` old: a job polled again is answered from this
    process's watch hub, which reads every polled job in one query per tick.
    """
    hub = hub_of(request.app)
    view = hub.poll(job_id)
    if view is None:
        read_at = hub.now()
        view = await run_in_threadpool(ctx.jobs.status, job_id)
        hub.remember(job_id, view, read_at=read_at)
    # Already a JobOut: returned as JSON as it is, not validated again on the way out.
    body = JobOut.of(view, language_of(request)).model_dump_json()
    return Response(body, media_type="application/json")


@router.get("/{job_id}/events", responses=_ERRORS)
async def job_events(
    job_id: str, request: Request, ctx: AppContext = Depends(get_context)
) -> StreamingResponse:
    """The job's status as server-sent events (``event: status``), until it is finished.

    The updates come from this process's :class:`~pixserve.web.watch.WatchHub`, which reads
    every watched job in one query per tick.
    """
    first = await run_in_threadpool(ctx.jobs.status, job_id)  # 404 before the stream starts
    lang = language_of(request)
    hub = hub_of(request.app)

    async def stream() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        update: JobView | PixserveError = first
        watcher = None if first.status.is_terminal else hub.subscribe(job_id)
        last = ""
        sent = checked = loop.time()
        try:
            while True:
                if isinstance(update, PixserveError):
                    yield f"event: error\ndata: {json.dumps({'error': update.to_dict(lang)})}\n\n"
                    return
                payload = JobOut.of(update, lang).model_dump_json()
                if payload != last:
                    yield f"event: status\ndata: {payload}\n\n"
                    last, sent = payload, loop.time()
                if watcher is None or update.status.is_terminal:
                    return
                while True:  # until the hub has an update; meanwhile keep the line alive
                    try:
                        update = await asyncio.wait_for(watcher.queue.get(), EVENT_POLL_SECONDS)
                        got = True
                    except TimeoutError:
                        got = False
                    now = loop.time()
                    if now - sent >= KEEPALIVE_SECONDS:
                        yield ": keep-alive\n\n"
                        sent = now
                    if now - checked >= EVENT_POLL_SECONDS:
                        checked = now
                        if await request.is_disconnected():
                            return
                    if got:
                        break
        finally:
            if watcher is not None:
                hub.unsubscribe(watcher)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/{job_id}/result",
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
        **_ERRORS,
        **_LINK_ERRORS,
    },
    response_class=Response,
)
def get_result(
    job_id: str,
    download: bool = False,
    expires: str | None = None,
    signature: str | None = None,
    ctx: AppContext = Depends(get_context),
) -> Response:
    """The full-size result; ``?download=1`` asks the browser to save it.

    ``expires`` and ``signature`` make a signed link (from the e-mail, the webhook, or
    ``result_url``); styles with a preview serve their full-size result only that way.
    """
    result = ctx.jobs.result(job_id, expires=expires, signature=signature)
    return _image(job_id, result, download=download, suffix="")


@router.get(
    "/{job_id}/preview",
    responses={200: {"content": {"image/jpeg": {}}}, **_ERRORS, **_LINK_ERRORS},
    response_class=Response,
)
def get_preview(
    job_id: str,
    download: bool = False,
    expires: str | None = None,
    signature: str | None = None,
    ctx: AppContext = Depends(get_context),
) -> Response:
    """The smaller, watermarked preview of a style that makes one."""
    result = ctx.jobs.result(job_id, variant="preview", expires=expires, signature=signature)
    return _image(job_id, result, download=download, suffix="-preview")


def _image(job_id: str, result: Result, *, download: bool, suffix: str) -> Response:
    if result.redirect_url:
        return RedirectResponse(result.redirect_url, status_code=307)
    disposition = "attachment" if download else "inline"
    name = f"pixserve-{job_id}{suffix}.{result.extension}"
    headers = {
        "Content-Disposition": f'{disposition}; filename="{name}"',
        "Cache-Control": "private, max-age=3600",
        "Referrer-Policy": "no-referrer",
    }
    return Response(result.data, media_type=result.content_type, headers=headers)


@router.delete("/{job_id}", response_model=DeletedOut, responses=_ERRORS)
async def delete_job(
    job_id: str, request: Request, ctx: AppContext = Depends(get_context)
) -> DeletedOut:
    """Cancel the job if it is not finished and delete its images and its record now."""
    job = await run_in_threadpool(ctx.jobs.delete, job_id)
    hub_of(request.app).forget(job_id)
    return DeletedOut(id=job.id, status=job.status, deleted=True)
