"""``GET /v1/styles``: the catalog, and each style's thumbnail."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse

from pixserve.core.errors import InvalidRequest, NotFound
from pixserve.core.i18n import N_
from pixserve.web.context import AppContext, get_context
from pixserve.web.pages import language_of
from pixserve.web.schemas import CatalogOut, ErrorBody, SizeOut, StyleOut

router = APIRouter(prefix="/v1/styles", tags=["styles"])

#: Sides beyond any image a node accepts; only to keep the arithmetic sane.
MAX_SIDE = 100_000


#: ``?width=&height=`` as the one thing they are: a size, both or neither. OpenAPI says so
#: with an object parameter exploded into the query (the same URL as two parameters).
_SIZE_PARAMETER = {
    "name": "size",
    "in": "query",
    "required": False,
    "style": "form",
    "explode": True,
    "description": "`width` and `height` of the picture to be styled (after the crop), both "
    "or neither; with them, each style's `output_size`.",
    "schema": {
        "type": "object",
        "properties": {
            side: {"type": "integer", "minimum": 1, "maximum": MAX_SIDE}
            for side in ("width", "height")
        },
        "required": ["width", "height"],
    },
}


@router.get(
    "",
    response_model=CatalogOut,
    responses={422: {"model": ErrorBody}},
    openapi_extra={"parameters": [_SIZE_PARAMETER]},
)
def list_styles(
    request: Request,
    response: Response,
    width: int | None = Query(None, ge=1, le=MAX_SIDE, include_in_schema=False),
    height: int | None = Query(None, ge=1, le=MAX_SIDE, include_in_schema=False),
    ctx: AppContext = Depends(get_context),
) -> CatalogOut:
    """Every style this service offers, with its limits and thumbnail URL; with ``width``
    and ``height``, the exact size each style's result would have.

    Titles and descriptions are in the request's language (``?lang=``, the ``lang``
    cookie, then ``Accept-Language``) where the style has a translation, else English."""
    if (width is None) != (height is None):
        raise InvalidRequest(N_("Give both width and height, or neither."))
    lang = language_of(request)
    # The answer depends on the language, as the page's does (web/routes/ui.py).
    response.headers["Vary"] = "Accept-Language, Cookie"
    styles = []
    engines = ctx.engine_info()
    for style in ctx.catalog:
        info = style.info(lang)
        thumb = f"/v1/styles/{style.name}/thumbnail" if style.thumbnail else None
        engine = engines.get(style.name)
        size = None
        if width is not None and height is not None:
            found = ctx.result_size(style.name, width, height)
            size = SizeOut(width=found[0], height=found[1]) if found else None
        styles.append(
            StyleOut(
                **info,
                thumbnail_url=thumb,
                engine=dict(engine) if engine else None,
                output_size=size,
            )
        )
    limits = {
        "max_upload_bytes": ctx.settings.max_upload_bytes,
        "max_pixels": ctx.settings.max_pixels,
    }
    return CatalogOut(styles=styles, limits=limits)


@router.get(
    "/{name}/thumbnail",
    response_class=FileResponse,
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
        404: {"model": ErrorBody, "description": "`unknown_style`, or no thumbnail."},
    },
)
def thumbnail(name: str, ctx: AppContext = Depends(get_context)) -> FileResponse:
    """A small sample of what the style does."""
    style = ctx.catalog.get(name)
    if style.thumbnail is None:
        raise NotFound(f"style {name!r} has no thumbnail")
    return FileResponse(style.thumbnail, headers={"Cache-Control": "public, max-age=3600"})
