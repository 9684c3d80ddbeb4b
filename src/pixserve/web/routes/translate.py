"""``POST /v1/translate``: the styled image in the response, for fast styles and small images."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from pixserve.web.context import AppContext, get_context
from pixserve.web.routes.uploads import read_upload
from pixserve.web.schemas import ErrorBody

router = APIRouter(tags=["translate"])


@router.post(
    "/v1/translate",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
        **{code: {"model": ErrorBody} for code in (404, 413, 415, 422, 503)},
    },
)
async def translate(
    file: UploadFile = File(...),
    style: str = Form(...),
    crop: str | None = Form(None),
    ctx: AppContext = Depends(get_context),
) -> Response:
    """Style one image right away and return it (no queue, no stored copy)."""
    data = await read_upload(file, ctx.settings.max_upload_bytes)
    result = await run_in_threadpool(ctx.translate.translate, data, style, crop)
    return Response(
        result.data,
        media_type=result.content_type,
        headers={"Content-Disposition": f'inline; filename="{style}.{result.extension}"'},
    )
