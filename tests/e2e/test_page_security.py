"""The Content-Security-Policy in a real browser: the app's pages run under it, and what
it forbids (an inline script) is refused and reported — so the browser helper's check
(tests/support/browser.py: any violation fails a test) can be trusted."""

from __future__ import annotations

import httpx
import pytest

from pixserve.web.security import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.e2e


def test_an_inline_script_is_refused_and_reported(live_server: str, open_page) -> None:
    w = open_page()
    w.page.goto(live_server + "/privacy")
    w.page.locator("h1").wait_for()
    # The page's listener reports after Chromium's own "Refused to …" line, from an event
    # fired later: wait for it, so neither arrives after the list is cleared below.
    with w.page.expect_console_message(
        lambda m: m.text.startswith("Content Security Policy violation"), timeout=10_000
    ):
        w.page.evaluate(
            """() => {
                const s = document.createElement('script');
                s.textContent = 'window.__inlineRan = true';
                document.head.appendChild(s);
            }"""
        )
    assert w.page.evaluate("() => window.__inlineRan === undefined")
    assert any("script-src" in v for v in w.csp_violations), w.csp_violations
    w.csp_violations.clear()  # seen and expected: the fixture's final check stays green


def test_every_answer_carries_the_headers(live_server: str) -> None:
    for path in ("/", "/docs", "/static/js/main.js", "/v1/styles", "/nowhere"):
        r = httpx.get(live_server + path)
        assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["x-frame-options"] == "DENY", path
        assert "access-control-allow-origin" not in r.headers, path  # CORS closed by default
