"""JSON errors everywhere: ``{"error": {"code": "...", "message": "..."}}``, never a stack trace.

The ``code`` is stable; the ``message`` is written in the request's language (``?lang=``, the
``lang`` cookie, then ``Accept-Language``).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from pixserve.core.errors import LinkError, NotFound, PixserveError
from pixserve.core.i18n import N_, gettext
from pixserve.web.pages import language_of, link_error_page, wants_html

log = logging.getLogger(__name__)

#: HTTP errors raised by the framework itself: their code and message.
_HTTP_ERRORS = {
    404: ("not_found", NotFound.default_message()),
    405: ("method_not_allowed", N_("This method is not allowed here.")),
    413: ("request_too_large", N_("The request is too large.")),
}


def error_response(
    status: int, code: str, message: str, *, retry_after: int | None = None
) -> JSONResponse:
    """The one shape every error takes."""
    if retry_after is None and status == 503:
        retry_after = 5
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse(
        {"error": {"code": code, "message": message}},
        status_code=status,
        headers=headers,
    )


#: The methods a 405's ``Allow`` may list.
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """The methods some route of the app answers at the request's path.

    Each route (FastAPI's included routers too) is asked whether it fully matches the path
    with each method; mounts (the static files) are left out, as they match any method.
    """
    allowed = []
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in routes):
            allowed.append(method)
    return allowed


def pixserve_error_response(exc: PixserveError, request: Request) -> JSONResponse:
    """``exc`` as the API answers it: in the request's language, with ``Retry-After`` where
    the error has one (the 429 and 503s of a closed intake). For the exception handler and
    for middleware that refuses a request before the app sees it."""
    return error_response(
        exc.http_status,
        exc.code,
        exc.message_in(language_of(request)),
        retry_after=getattr(exc, "retry_after", None),
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map pixserve errors, validation errors, HTTP errors and crashes to JSON errors."""

    @app.exception_handler(PixserveError)
    async def pixserve_error(request: Request, exc: PixserveError) -> JSONResponse:
        if exc.http_status >= 500:
            log.warning("%s %s: %s (%s)", request.method, request.url.path, exc.message, exc.code)
        response = pixserve_error_response(exc, request)
        if exc.http_status == 401:  # the operator endpoints take a bearer token
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(LinkError)
    async def link_error(request: Request, exc: LinkError) -> Response:
        # People follow result links from e-mails: a browser gets a page, an API client JSON.
        if wants_html(request):
            page = link_error_page(request, exc.code, exc.http_status)
            return HTMLResponse(page, status_code=exc.http_status)
        return error_response(exc.http_status, exc.code, exc.message_in(language_of(request)))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Which field and what is wrong with it, in pydantic's words (English): the field
        # names are the API's own, and this mostly reaches programmers.
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
            problems.append(f"{where}: {err.get('msg', 'invalid')}" if where else err["msg"])
        message = gettext(
            language_of(request),
            "The request is not valid: {problems}",
            problems="; ".join(problems),
        )
        return error_response(422, "invalid_request", message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _HTTP_ERRORS.get(exc.status_code, ("http_error", str(exc.detail)))
        response = error_response(exc.status_code, code, gettext(language_of(request), message))
        for name, value in (exc.headers or {}).items():
            response.headers.setdefault(name, value)
        if exc.status_code == 405:
            # RFC 9110: a 405 lists what the resource allows — every route of this path,
            # not only the first one the router tried (GET and DELETE are two routes); the
            # static files (a mount, not routes) answer GET and HEAD.
            allow = allowed_methods(request) or ["GET", "HEAD"]
            response.headers["Allow"] = ", ".join(allow)
        return response

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        message = gettext(language_of(request), PixserveError.default_message())
        return error_response(500, "internal_error", message)
