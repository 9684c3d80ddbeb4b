"""The web page at ``/``: a Jinja template in the visitor's language, with ES modules from
``/static/js`` and the browser libraries the build step put in ``/static/vendor`` (no CDN).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from pixserve.core.i18n import LANGUAGES, catalog
from pixserve.web.pages import language_of, render

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
#: The page's catalogue domain (``locale/<lang>/LC_MESSAGES/page.po``; msgid = English text).
PAGE_DOMAIN = "page"
#: Each language named in itself, for the switch.
LANGUAGE_NAMES = {"en": "English", "es": "Español"}

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    """The upload page, in the language of ``?lang=``, the ``lang`` cookie or Accept-Language."""
    lang = language_of(request)
    messages = catalog(lang, PAGE_DOMAIN)
    html = render(
        "index.html",
        lang=lang,
        languages=[(code, LANGUAGE_NAMES.get(code, code)) for code in LANGUAGES],
        page_messages=messages,
        t=lambda text: messages.get(text, text),
    )
    headers = {"Cache-Control": "no-cache", "Vary": "Accept-Language, Cookie"}
    return HTMLResponse(html, headers=headers)
