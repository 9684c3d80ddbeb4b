"""What every answer says about how a browser may use it: a Content-Security-Policy, no
sniffing, no framing, a quiet referrer; and cross-origin reads (CORS) only for the origins
an operator names (``PIXSERVE_CORS_ORIGINS``), none by default.

The policy allows no inline script: the page and ``/docs`` load their code from
``/static``. The page's messages sit in a ``<script type="application/json">``, which is
data a browser never runs, so the policy does not touch it. Styles come from ``/static``
too; scripts may still set ``element.style`` (Cropper.js, Swagger UI), which a policy does
not govern. Previews are ``blob:`` URLs and Swagger UI's icons ``data:`` URLs, hence
``img-src``. With bot protection on (``PIXSERVE_BOT_PROVIDER``), and only then, the
provider's origin may also serve scripts and frames and answer requests: its widget.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(widget_origins: Iterable[str] = ()) -> str:
    """The policy of every page this app serves.

    ``widget_origins`` are third parties the page must load a widget from (the bot check's,
    only when it is on): they may serve scripts, frames and answer requests, nothing more.
    """
    extra = "".join(f" {origin}" for origin in widget_origins)
    directives = [
        "default-src 'self'",
        f"script-src 'self'{extra}",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        f"connect-src 'self'{extra}",
        *([f"frame-src 'self'{extra}"] if extra else []),  # the widget draws in an iframe
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
    return "; ".join(directives)


#: The policy with no third party at all (the default: no bot check).
CONTENT_SECURITY_POLICY = content_security_policy()

#: Headers set on every answer, unless the route set its own (a result's ``no-referrer``).
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

#: What cross-origin callers may send and read, when CORS is on.
CORS_METHODS = ["GET", "POST", "DELETE"]
CORS_EXPOSED = ["Location", "Retry-After", "X-Job-Id", "Content-Disposition"]


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every HTTP answer.

    Pure ASGI (not ``BaseHTTPMiddleware``), so streamed answers — server-sent events,
    images — pass through untouched apart from their headers.
    """

    def __init__(self, app: ASGIApp, headers: dict[str, str] | None = None) -> None:
        self.app = app
        self.headers = SECURITY_HEADERS if headers is None else headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def cors_origins(setting: str) -> list[str]:
    """The origins of ``PIXSERVE_CORS_ORIGINS`` (comma-separated; ``*`` means any)."""
    return [o.strip().rstrip("/") for o in setting.split(",") if o.strip()]


def install_security(
    app: FastAPI, origins: Iterable[str] = (), widget_origins: Iterable[str] = ()
) -> None:
    """Add the security headers to every answer, and CORS for ``origins`` if there are any.

    With no origins there is no CORS middleware at all: a browser on another site gets no
    ``Access-Control-Allow-Origin`` and cannot read any answer. ``widget_origins`` join the
    CSP (:func:`content_security_policy`); none by default.
    """
    allowed = list(origins)
    if allowed:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=allowed,
            allow_methods=CORS_METHODS,
            allow_headers=["Accept-Language", "Content-Type"],
            expose_headers=CORS_EXPOSED,
            allow_credentials=False,  # the API has no cookies worth sending across sites
            max_age=600,
        )
    # Added last, so it wraps CORS too: preflight answers carry the headers as well.
    widgets = tuple(widget_origins)
    headers = SECURITY_HEADERS
    if widgets:
        headers = {**SECURITY_HEADERS, "Content-Security-Policy": content_security_policy(widgets)}
    app.add_middleware(SecurityHeaders, headers=headers)
