"""``GET /v1/styles``: the catalog, and each style's thumbnail."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse

from pixserve.core.errors import InvalidRequest, NotFound
from pixserve.core.i18n import N_
from pixserve.web.context import AppContext, get_context
from pixserve.web.schemas import CatalogOut, ErrorBody, SizeOut, StyleOut

router = APIRouter(prefix="/v1/styles", tags=["styles"])

#: Sides beyond any image a node accepts; only to keep the arithmetic sane.
MAX_SIDE = 100_000


@router.get("", response_model=CatalogOut, responses={422: {"model": ErrorBody}})
def list_styles(
    width: int | None = Query(
        None, ge=1, le=MAX_SIDE, description="Width of the picture to be styled (after the crop)."
    ),
    height: int | None = Query(
        None, ge=1, le=MAX_SIDE, description="Its height; with width, each style's output_size."
    ),
    ctx: AppContext = Depends(get_context),
) -> CatalogOut:
    """Every style this service offers, with its limits and thumbnail URL; with ``width``
    and ``height``, the exact size each style's result would have."""
    if (width is None) != (height is None):
        raise InvalidRequest(N_("Give both width and height, or neither."))
    styles = []
    engines = ctx.engine_info()
    for style in ctx.catalog:
        info = style.info()
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
        "translate_max_pixels": ctx.settings.translate_max_pixels,
    }
    return CatalogOut(styles=styles, limits=limits)


@router.get("/{name}/thumbnail", response_class=FileResponse)
def thumbnail(name: str, ctx: AppContext = Depends(get_context)) -> FileResponse:
    """A small sample of what the style does."""
    style = ctx.catalog.get(name)
    if style.thumbnail is None:
        raise NotFound(f"style {name!r} has no thumbnail")
    return FileResponse(style.thumbnail, headers={"Cache-Control": "public, max-age=3600"})
