"""Offline pages: ``/docs`` (Swagger UI from files this app serves) and ``/privacy`` load
without a single request to another host; ``/redoc`` (a CDN page) is gone."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


def test_docs_work_offline(live_server: str, open_page, shots) -> None:
    w = open_page()
    page = w.page
    page.goto(live_server + "/docs")
    page.locator(".opblock").first.wait_for(state="visible")
    assert page.locator(".opblock-summary-path", has_text="/v1/jobs").count() >= 1
    assert page.locator(".opblock-summary-path", has_text="/v1/faces").count() >= 1
    shots(page, "docs")
    # Try one operation from the docs page itself.
    page.locator(".opblock-summary", has_text="/v1/styles").first.click()
    page.locator("button.try-out__btn").first.click()
    page.locator("button.execute").first.click()
    page.locator(".responses-wrapper .live-responses-table").first.wait_for()
    shots(page, "docs-try-it")
    assert any(u.endswith("/static/vendor/swagger-ui/swagger-ui-bundle.js") for u in w.urls)
    assert any(u.endswith("/openapi.json") for u in w.urls)
    w.assert_clean()


def test_privacy_is_offline_too(live_server: str, open_page, shots) -> None:
    w = open_page()
    w.page.goto(live_server + "/privacy")
    w.page.locator("h1").wait_for()
    shots(w.page, "privacy")
    w.assert_clean()


def test_redoc_is_gone_and_docs_assets_are_served(live_server: str) -> None:
    assert httpx.get(live_server + "/redoc").status_code == 404
    html = httpx.get(live_server + "/docs").text
    assert "cdn." not in html and "https://" not in html
    for path in (
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui/swagger-ui.css",
        "/static/vendor/cropperjs/cropper.esm.js",
        "/static/favicon.svg",
    ):
        assert httpx.get(live_server + path).status_code == 200, path
