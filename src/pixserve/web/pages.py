"""Server-rendered pages: the privacy page and the friendly page of a link that fails.

Jinja2 templates from ``web/templates``, autoescaped, built once per process on first use.
"""

from __future__ import annotations

import functools

from fastapi import Request
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pixserve.notify.i18n import choose_language, text


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("pixserve.web", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",)),
        undefined=StrictUndefined,
    )


def render(name: str, **context: object) -> str:
    """The template ``name`` rendered with ``context``."""
    return _environment().get_template(name).render(**context)


def wants_html(request: Request) -> bool:
    """Whether the client is a browser (asks for HTML) rather than an API client."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept


def link_error_page(request: Request, code: str, status: int) -> str:
    """The page a person sees when a result link is expired, deleted or tampered with."""
    lang = choose_language(request.query_params.get("lang"), request.headers.get("accept-language"))
    expired = status == 410
    title = text(lang, "link_expired_title" if expired else "link_invalid_title")
    body = text(lang, "link_expired_body" if expired else "link_invalid_body")
    return render(
        "link_error.html",
        lang=lang,
        title=title,
        body=body,
        code=code,
        home=text(lang, "home"),
        privacy=text(lang, "privacy"),
    )
