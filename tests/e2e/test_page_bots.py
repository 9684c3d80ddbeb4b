"""The page with bot protection on: it loads the provider's widget (played here by a stand-in
served for the widget's URL, since nothing leaves this machine), sends the widget's token
with the submission, and the real server checks it with a local siteverify."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pixserve.services.bots import TURNSTILE_ORIGIN
from tests.support.browser import (
    astronaut_jpeg,
    choose_photo,
    open_home,
    pick_style,
    wait_for_result,
)
from tests.support.server import ServerProcess
from tests.support.turnstile import GOOD, SECRET, SITE_KEY, Provider

pytestmark = pytest.mark.e2e

#: Turnstile's browser API as the page uses it (render, getResponse, reset), nothing more.
FAKE_WIDGET = f"""
window.turnstile = {{
  rendered: [],
  resets: 0,
  render(container, options) {{
    this.rendered.push(options);
    const box = document.createElement("span");
    box.className = "fake-turnstile";
    box.textContent = "I am a person";
    container.append(box);
    return "widget-1";
  }},
  getResponse(id) {{ return id === "widget-1" ? "{GOOD}" : undefined; }},
  reset(id) {{ this.resets += 1; }},
}};
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    provider = Provider()
    provider.start()
    env = {
        "PIXSERVE_BOT_PROVIDER": "turnstile",
        "PIXSERVE_BOT_SECRET": SECRET,
        "PIXSERVE_BOT_SITE_KEY": SITE_KEY,
        "PIXSERVE_BOT_VERIFY_URL": provider.url,
    }
    proc = ServerProcess(tmp_path_factory.mktemp("bots-page"), env=env).start()
    try:
        yield proc
    finally:
        assert proc.terminate(), proc.log()
        provider.stop()


@pytest.fixture(scope="module")
def astronaut(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return astronaut_jpeg(tmp_path_factory.mktemp("images") / "astronaut.jpg")


def test_the_widget_loads_and_its_token_goes_with_the_photo(
    server: ServerProcess, open_page, shots, astronaut: Path
) -> None:
    w = open_page()
    page = w.page
    widget_urls: list[str] = []

    def serve_widget(route) -> None:  # type: ignore[no-untyped-def]
        widget_urls.append(route.request.url)
        route.fulfill(status=200, content_type="text/javascript", body=FAKE_WIDGET)

    page.route(f"{TURNSTILE_ORIGIN}/**", serve_widget)
    open_home(w, server.url)
    page.locator("#bot-check .fake-turnstile").wait_for(state="visible")
    assert widget_urls == [f"{TURNSTILE_ORIGIN}/turnstile/v0/api.js?render=explicit"]
    options = page.evaluate("() => window.turnstile.rendered[0]")
    assert options["sitekey"] == SITE_KEY and options["language"] == "en"
    shots(page, "widget")

    pick_style(w, "cartoon")
    choose_photo(w, astronaut)
    page.click("#submit")
    wait_for_result(w)  # the server asked the local siteverify, which said yes
    (form,) = w.forms("/v1/jobs")
    assert form["cf-turnstile-response"] == GOOD
    assert page.evaluate("() => window.turnstile.resets") == 1  # a token is good once
    # Only the widget's own origin was asked, and the CSP let it in (the fixture checks).
    assert {u.split("/turnstile/")[0] for u in w.foreign_requests()} == {TURNSTILE_ORIGIN}
