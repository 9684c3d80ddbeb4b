"""Server-rendered pages and the request's language.

Jinja2 templates from ``web/templates``, autoescaped, built once per process on first use.
The privacy page and the page of a link that fails take their texts from the ``messages``
catalogue through ``_`` (see :func:`translator`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from fastapi import Request
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from pixserve.core.i18n import choose_language, gettext


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


def language_of(request: Request) -> str:
    """The request's language: ``?lang=``, then the ``lang`` cookie, then Accept-Language."""
    return choose_language(
        request.query_params.get("lang"),
        request.cookies.get("lang"),
        request.headers.get("accept-language"),
    )


def translator(lang: str) -> Callable[..., Markup]:
    """A template's ``_(msgid, **values)``: the text in ``lang``, safe to put in HTML.

    The catalogue is ours, so a msgid may carry inline markup (``<strong>``, ``<code>``);
    the values are escaped.
    """

    def translate(msgid: str, **values: object) -> Markup:
        safe: dict[str, Any] = {
            k: v if isinstance(v, int | float) else escape(v) for k, v in values.items()
        }
        return Markup(gettext(lang, msgid, **safe))

    return translate


def wants_html(request: Request) -> bool:
    """Whether the client is a browser (asks for HTML) rather than an API client."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept


def link_error_page(request: Request, code: str, status: int) -> str:
    """The page a person sees when a result link is expired, deleted or tampered with."""
    lang = language_of(request)
    return render(
        "link_error.html", lang=lang, _=translator(lang), code=code, expired=status == 410
    )
