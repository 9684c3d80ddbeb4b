"""``GET /v1/styles``: the catalog, and each style's thumbnail."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from pixserve.core.errors import NotFound
from pixserve.web.context import AppContext, get_context
from pixserve.web.schemas import CatalogOut, StyleOut

router = APIRouter(prefix="/v1/styles", tags=["styles"])


@router.get("", response_model=CatalogOut)
def list_styles(ctx: AppContext = Depends(get_context)) -> CatalogOut:
    """Every style this service offers, with its limits and thumbnail URL."""
    styles = []
    engines = ctx.engine_info()
    for style in ctx.catalog:
        info = style.info()
        thumb = f"/v1/styles/{style.name}/thumbnail" if style.thumbnail else None
        engine = engines.get(style.name)
        styles.append(
            StyleOut(**info, thumbnail_url=thumb, engine=dict(engine) if engine else None)
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
