"""``/privacy`` and ``/v1/config``: the retention promise, stated from the live settings."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from pixserve.core.i18n import LANGUAGES, catalog, ngettext
from pixserve.web.context import AppContext, get_context
from pixserve.web.pages import language_of, render, translator
from pixserve.web.schemas import BotOut, ConfigOut, IntakeOut, RetentionOut

router = APIRouter()


def duration(lang: str, hours: float) -> str:
    """``24 hours``, ``7 days``, ``90 minutes``: the exact length, in words people read."""
    seconds = round(hours * 3600)
    if seconds >= 2 * 86400 and seconds % 86400 == 0:
        return ngettext(lang, "{n} day", "{n} days", seconds // 86400)
    if seconds >= 3600 and seconds % 3600 == 0:
        return ngettext(lang, "{n} hour", "{n} hours", seconds // 3600)
    if seconds >= 60 and seconds % 60 == 0:
        return ngettext(lang, "{n} minute", "{n} minutes", seconds // 60)
    return ngettext(lang, "{n} second", "{n} seconds", seconds)


@router.get("/v1/config", response_model=ConfigOut, tags=["config"])
def config(ctx: AppContext = Depends(get_context)) -> ConfigOut:
    """What the upload page needs to know: e-mail on or off, how long things are kept, and
    whether new images are taken now (``intake``)."""
    policy = ctx.policy()
    intake = IntakeOut(open=True, reason=None, retry_after_seconds=None)
    if ctx.intake is not None:
        state = ctx.intake.state()
        intake = IntakeOut(
            open=state.open,
            reason=state.reason,
            retry_after_seconds=state.retry_after_seconds,
        )
    settings = ctx.settings
    bot = None
    if settings.bot_provider == "turnstile" and settings.bot_site_key:
        bot = BotOut(provider="turnstile", site_key=settings.bot_site_key)
    return ConfigOut(
        bot=bot,
        intake=intake,
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
def privacy(request: Request, ctx: AppContext = Depends(get_context)) -> HTMLResponse:
    """The privacy page: exactly what is kept and for how long, from the settings."""
    lang = language_of(request)
    # The page's button, named as the page names it (its own catalogue).
    delete_button = catalog(lang, "page").get("Delete my images", "Delete my images")
    html = render(
        "privacy.html",
        lang=lang,
        _=translator(lang),
        p=ctx.policy(),
        duration=lambda hours: duration(lang, hours),
        delete_button=delete_button,
    )
    headers = {"Cache-Control": "no-cache", "Vary": "Accept-Language, Cookie"}
    return HTMLResponse(html, headers=headers)
