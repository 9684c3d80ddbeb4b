"""``POST /v1/translate``: one call for one image, any style, durable underneath.

The image becomes a job exactly as through ``POST /v1/jobs``; the call then waits for it
without holding a thread and answers with the image, the job's error, or — when the
deadline passes first — 202 and the job, which goes on and can be watched like any other.

A call that has to wait follows the job through the process's
:class:`~pixserve.web.watch.WatchHub`, as an event stream does: one shared read per tick, and
a job a worker ends is seen within :data:`~pixserve.web.watch.MOVED_TICK_GAP` where the store
tells of its moves (workers in this process; PostgreSQL). A call also reads its job every
:data:`FALLBACK_SECONDS`, and notices a client that hung up as often.
Before, each call read its job every 0.25 s and answered up to that late.
"""

from __future__ import annotations

import asyncio
import logging
import time

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from pixserve.core.errors import PixserveError
from pixserve.services.translate import status_for_code
from pixserve.services.views import JobView
from pixserve.web.bots import BOT_CHECK, BOT_CHECK_RESPONSE
from pixserve.web.context import AppContext, get_context
from pixserve.web.errors import error_response
from pixserve.web.pages import language_of
from pixserve.web.routes.uploads import read_submission
from pixserve.web.schemas import ErrorBody, JobOut
from pixserve.web.watch import Update, Watcher, hub_of

log = logging.getLogger(__name__)

router = APIRouter(tags=["translate"])

#: A waiting call reads its job at least this often, whatever the hub hears.
FALLBACK_SECONDS = 1.0

_IMAGE: dict[str, object] = {"image/jpeg": {}, "image/png": {}, "image/webp": {}}


@router.post(
    "/v1/translate",
    # rate limit, pause, budget: checked on the headers (web/limits.py); then the bot check
    dependencies=BOT_CHECK,
    response_class=Response,
    responses={
        200: {"description": "The styled image.", "content": _IMAGE},
        202: {
            "model": JobOut,
            "description": "Not finished within the wait: the job (as POST /v1/jobs answers "
            "it), its URL in `Location`. It goes on; watch it or fetch its result later.",
        },
        **{
            code: {"model": ErrorBody, "description": why}
            for code, why in (
                (404, "Unknown style."),
                (408, "The upload was too slow (request_timeout)."),
                (413, "The image is too large."),
                (415, "Not an image pixserve can read."),
                (422, "A bad field or image, or the job failed on the image."),
                (429, "Too many submissions from this address (rate_limited); see Retry-After."),
                (500, "The job failed on our side (the job's error code)."),
                (
                    503,
                    "The queue is full, intake is paused or over budget, or the service is "
                    "unavailable; see Retry-After.",
                ),
            )
        },
        **BOT_CHECK_RESPONSE,
    },
)
async def translate(
    request: Request,
    file: UploadFile = File(..., description="The photo (JPEG, PNG, WebP, AVIF, GIF, BMP, TIFF)."),
    style: str = Form(..., description="A style name from GET /v1/styles (fast or slow)."),
    crop: str | None = Form(None, description="x,y,w,h in the upright image."),
    email: str | None = Form(None, description="Also send the result (or the failure) here."),
    webhook_url: str | None = Form(
        None, description="POST signed job.running/succeeded/failed events here."
    ),
    lang: str | None = Form(None, description="Language of the e-mail: en or es."),
    wait: float | None = Form(
        None,
        ge=0,
        description="Seconds to wait for the image (at most, and by default, "
        "PIXSERVE_TRANSLATE_WAIT_SECONDS); 0 answers 202 at once.",
    ),
    wait_query: float | None = Query(None, alias="wait", ge=0, description="As the form field."),
    accept_language: str | None = Header(None, include_in_schema=False),
    ctx: AppContext = Depends(get_context),
) -> Response:
    """Style one image in one call: the image if it is ready within the wait, else 202.

    Any style works, slow ones too: the image is queued as a durable job (the same checks
    and errors as ``POST /v1/jobs``), and a job that fails answers with its error code.
    """
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
    view = await run_in_threadpool(ctx.translate.submit, submission)
    deadline = time.monotonic() + ctx.translate.wait_seconds(
        wait if wait is not None else wait_query
    )
    hub = hub_of(request.app)
    watcher: Watcher | None = None
    try:
        while True:
            finished = await run_in_threadpool(ctx.translate.finished, view.id)
            if finished is not None:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                return await _accepted(request, ctx, view.id, webhook_url)
            # Only now: a job done at once, or a call that does not wait, costs no hub read.
            watcher = watcher or hub.subscribe(view.id)
            if isinstance(await _over(watcher, min(FALLBACK_SECONDS, left)), PixserveError):
                # The hub's read failed and it dropped its watchers: the next read says
                # what is wrong, and a later subscription follows the job again.
                hub.unsubscribe(watcher)
                watcher = None
            if await request.is_disconnected():
                # The job goes on (it is durable); nobody is left to tell.
                log.info("translate: client left while job %s ran", view.id)
                return Response(status_code=204)
    finally:
        if watcher is not None:
            hub.unsubscribe(watcher)
    lang_out = language_of(request)
    if finished.result is None:
        body = JobOut.of(finished.view, lang_out)
        code = body.error.code if body.error else "internal_error"
        message = body.error.message if body.error else ""
        return error_response(status_for_code(code), code, message)
    result = finished.result
    return Response(
        result.data,
        media_type=result.content_type,
        headers={
            "Content-Disposition": f'inline; filename="{style}.{result.extension}"',
            "X-Job-Id": view.id,  # to watch, or delete, the job it was
        },
    )


async def _over(watcher: Watcher, seconds: float) -> Update | None:
    """The hub's update once it says the job is over (finished, gone, or unreadable), or
    None after ``seconds``; the views of a job still running only say so."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while (left := end - loop.time()) > 0:
        try:
            update = await asyncio.wait_for(watcher.queue.get(), left)
        except TimeoutError:
            return None
        if not isinstance(update, JobView) or update.status.is_terminal:
            return update
    return None


async def _accepted(
    request: Request, ctx: AppContext, job_id: str, webhook_url: str | None
) -> JSONResponse:
    view = await run_in_threadpool(ctx.jobs.status, job_id)
    body = JobOut.of(view, language_of(request))
    if webhook_url:
        body.webhook_secret = ctx.jobs.webhook_secret(view)
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=202,
        headers={"Location": body.status_url},
    )
