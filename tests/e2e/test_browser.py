"""The web page in a real browser (Debian's Chromium via Playwright) against a real server.

Needs the ``live_server`` fixture (tests/e2e/conftest.py): the base URL of a running
``pixserve serve`` with one worker. Never downloads a browser: it drives /usr/bin/chromium.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("PIXSERVE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 667}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
RESULT_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageWatch:
    """A page plus what it asked for and what it complained about."""

    def __init__(self, page: sync_api.Page) -> None:
        self.page = page
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", self._on_console)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))

    def _on_console(self, msg: sync_api.ConsoleMessage) -> None:
        if msg.type == "error":
            self.console_errors.append(f"{msg.text} @ {msg.location}")

    def foreign_requests(self) -> list[str]:
        """Requests that left this machine (blob:/data: URLs never do)."""
        foreign = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("blob", "data", "about"):
                continue
            if parts.hostname not in LOCAL_HOSTS:
                foreign.append(url)
        return foreign


@pytest.fixture
def phone_page(browser: sync_api.Browser) -> Iterator[PageWatch]:
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield PageWatch(page)
    context.close()


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image
    from skimage import data

    path = tmp_path_factory.mktemp("images") / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(path, "JPEG", quality=90)
    return path


@pytest.fixture(scope="module")
def not_a_photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("images") / "notes.jpg"
    path.write_text("This is a shopping list, not a photo.\nmilk\neggs\n")
    return path


def open_home(w: PageWatch, base: str) -> None:
    w.page.goto(base + "/")
    cards = w.page.locator(".style-card")
    cards.first.wait_for(state="visible")
    assert cards.count() >= 4


def submit_photo(w: PageWatch, path: Path, style: str = "cartoon") -> None:
    page = w.page
    page.set_input_files("#file-input", str(path))
    page.click(f'.style-card[data-style="{style}"]')
    assert page.locator(f'.style-card[data-style="{style}"] input').is_checked()
    page.click("#submit")


def wait_for_result(w: PageWatch) -> None:
    page = w.page
    page.wait_for_function(
        """() => {
            const img = document.querySelector('#result-image');
            const err = document.querySelector('#error');
            return (img && !img.hidden && img.complete && img.naturalWidth > 0)
                || (err && !err.hidden);
        }""",
        timeout=RESULT_TIMEOUT_MS,
    )
    error = page.locator("#error")
    code = error.get_attribute("data-code")
    assert error.is_hidden(), f"the job failed: {code}: {error.text_content()}"
    assert page.locator("#result-image").is_visible()


def test_phone_upload_cartoon_and_download(
    live_server: str, phone_page: PageWatch, photo: Path, tmp_path: Path
) -> None:
    w, page = phone_page, phone_page.page
    open_home(w, live_server)
    page.screenshot(path=tmp_path / "home.png", full_page=True)
    # The upscalers wait folded below the styles, so the gallery shows styles first.
    upscaler = page.locator('.style-card[data-style="waifu2x-photo-2x"]')
    assert upscaler.count() == 1 and not upscaler.is_visible()
    page.click("[data-testid=enlarge-group] > summary")
    assert upscaler.is_visible()
    page.click("[data-testid=enlarge-group] > summary")

    submit_photo(w, photo, "cartoon")
    status = page.locator("#status")
    status.wait_for(state="visible")
    wait_for_result(w)

    assert page.locator("#original-image").evaluate("img => img.naturalWidth") == 512
    assert page.locator("#result-image").evaluate("img => img.naturalWidth") > 0
    assert page.locator("#status").text_content().startswith("Done")

    href = page.locator("#download").get_attribute("href")
    assert href is not None
    assert "/v1/jobs/" in href
    assert "download=1" in href
    assert page.locator("#download").is_visible()
    assert page.locator("#delete").is_visible()

    # Phone width: original and result stacked, not side by side.
    original = page.locator("#original-image").bounding_box()
    result = page.locator("#result-image").bounding_box()
    assert original is not None
    assert result is not None
    assert result["y"] >= original["y"] + original["height"]
    # Nothing is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.screenshot(path=tmp_path / "result.png", full_page=True)

    # The download link serves the image as an attachment.
    with page.expect_download() as download_info:
        page.click("#download")
    download = download_info.value
    saved = tmp_path / (download.suggested_filename or "result")
    download.save_as(saved)
    assert saved.stat().st_size > 0

    # Delete: the images go away and the page says so.
    page.click("#delete")
    page.wait_for_function(
        "() => document.querySelector('#status').textContent.startsWith('Deleted')"
    )
    assert page.locator("#result-image").is_hidden()

    assert w.foreign_requests() == []
    assert w.console_errors == []
    assert w.page_errors == []


def test_not_an_image_then_a_good_photo(
    live_server: str, phone_page: PageWatch, photo: Path, not_a_photo: Path
) -> None:
    w, page = phone_page, phone_page.page
    open_home(w, live_server)

    submit_photo(w, not_a_photo, "cartoon")
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert error.get_attribute("data-code") == "unsupported_image"
    assert "isn’t a photo we can read" in error.text_content()
    # The form is still there, usable, and keeps the chosen style.
    assert page.locator("#submit").is_enabled()
    assert page.locator('.style-card[data-style="cartoon"] input').is_checked()

    submit_photo(w, photo, "cartoon")
    assert error.is_hidden()
    wait_for_result(w)
    assert w.foreign_requests() == []
    assert w.page_errors == []
