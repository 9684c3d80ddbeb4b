"""``/docs``: Swagger UI for the OpenAPI schema, from files this app serves.

FastAPI's own ``/docs`` loads Swagger UI from a CDN, which is blank offline and tells a third
party who reads the docs. Here its HTML points at ``/static/vendor/swagger-ui`` (copied from
the npm package ``swagger-ui-dist`` by ``make vendor``) and the online validator is off.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

VENDOR = "/static/vendor/swagger-ui"

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    """Swagger UI, every file of it served by this app."""
    app = request.app
    return get_swagger_ui_html(
        openapi_url=app.openapi_url,
        title=f"{app.title} — HTTP API",
        swagger_js_url=f"{VENDOR}/swagger-ui-bundle.js",
        swagger_css_url=f"{VENDOR}/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
        oauth2_redirect_url=None,
        swagger_ui_parameters={"validatorUrl": None},
    )
