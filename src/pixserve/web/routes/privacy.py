"""``/privacy`` and ``/v1/config``: the retention promise, stated from the live settings."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from pixserve.notify.i18n import LANGUAGES
from pixserve.web.context import AppContext, get_context
from pixserve.web.pages import render
from pixserve.web.schemas import ConfigOut, RetentionOut

router = APIRouter()


def hours(value: float) -> str:
    """``24 hours``, ``7 days``, ``30 minutes``: the exact number, in words people read."""
    if value >= 48 and value % 24 == 0:
        return f"{value / 24:g} days"
    if value >= 1:
        return f"{value:g} hour" + ("" if value == 1 else "s")
    minutes = value * 60
    if minutes >= 1:
        return f"{minutes:g} minute" + ("" if minutes == 1 else "s")
    return f"{minutes * 60:g} seconds"


@router.get("/v1/config", response_model=ConfigOut, tags=["config"])
def config(ctx: AppContext = Depends(get_context)) -> ConfigOut:
    """What the upload page needs to know: e-mail on or off, and how long things are kept."""
    policy = ctx.policy()
    return ConfigOut(
        email=ctx.email_enabled,
        languages=list(LANGUAGES),
        retention=RetentionOut(
            delete_originals=policy.delete_originals,
            result_ttl_hours=policy.result_ttl_hours,
            record_ttl_hours=policy.record_ttl_hours,
            link_ttl_hours=policy.link_ttl_hours,
        ),
    )


@router.get("/privacy", response_class=HTMLResponse, include_in_schema=False)
def privacy(ctx: AppContext = Depends(get_context)) -> HTMLResponse:
    """The privacy page: exactly what is kept and for how long, from the settings."""
    html = render("privacy.html", p=ctx.policy(), hours=hours)
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})
