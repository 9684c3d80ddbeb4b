"""``POST /v1/faces``: where the faces are in a photo, so the page's crop starts on one."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, UploadFile
from starlette.concurrency import run_in_threadpool

from pixserve.core.errors import Unavailable
from pixserve.core.i18n import N_
from pixserve.web.context import AppContext, get_context
from pixserve.web.routes.uploads import read_upload
from pixserve.web.schemas import ErrorBody, FaceOut, FacesOut

router = APIRouter(prefix="/v1/faces", tags=["faces"])

_ERRORS: dict[int | str, dict[str, object]] = {
    408: {"model": ErrorBody, "description": "`request_timeout`: the upload was too slow."},
    413: {"model": ErrorBody, "description": "`image_too_large`: over the byte or pixel limit."},
    415: {"model": ErrorBody, "description": "`unsupported_image`: not an image format we read."},
    422: {
        "model": ErrorBody,
        "description": "`corrupt_image` (a damaged file), `invalid_request` (no or empty file).",
    },
    503: {"model": ErrorBody, "description": "`unavailable`: no face detector on this node."},
}


@router.post("", response_model=FacesOut, responses=_ERRORS)
async def find_faces(
    file: UploadFile = File(..., description="The photo (same formats and limits as a job)."),
    ctx: AppContext = Depends(get_context),
) -> FacesOut:
    """The faces in the photo, largest first, as boxes in the upright image (EXIF
    orientation applied), found by the detector of the styles' face step. Nothing is
    stored."""
    if ctx.faces is None:
        raise Unavailable(N_("Face detection is not available on this server."))
    data = await read_upload(file, ctx.settings.max_upload_bytes)
    found = await run_in_threadpool(ctx.faces.find, data)
    return FacesOut(
        width=found.width,
        height=found.height,
        faces=[
            FaceOut(x=f.x, y=f.y, width=f.width, height=f.height, score=f.score)
            for f in found.faces
        ],
    )
