"""``/docs``: Swagger UI for the OpenAPI schema, from files this app serves.

FastAPI's own ``/docs`` loads Swagger UI from a CDN, which is blank offline and tells a third
party who reads the docs, and starts it with an inline script, which the app's
Content-Security-Policy (``script-src 'self'``, web/security.py) does not run. Here the page
points at ``/static/vendor/swagger-ui`` (copied from the npm package ``swagger-ui-dist`` by
``make vendor``) and starts it with ``/static/js/swagger-init.js``; the online validator is
off.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

VENDOR = "/static/vendor/swagger-ui"
INIT = "/static/js/swagger-init.js"

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{vendor}/swagger-ui.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{vendor}/swagger-ui-bundle.js"></script>
<script src="{init}" data-openapi-url="{openapi_url}"></script>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    """Swagger UI, every file of it served by this app, no inline script."""
    app = request.app
    page = _PAGE.format(
        title=escape(f"{app.title} — HTTP API"),
        vendor=VENDOR,
        init=INIT,
        openapi_url=escape(app.openapi_url or "/openapi.json"),
    )
    return HTMLResponse(page)
