"""The web page in a real browser (Debian's Chromium via Playwright) against a real server.

Needs the ``live_server`` fixture (tests/e2e/conftest.py): the base URL of a running
``pixserve serve`` with one worker. Never downloads a browser: it drives /usr/bin/chromium
(tests/support/browser.py). The focused tests of each part of the page are in
``test_page_*.py``; these two walk the main path and its commonest stumble.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.browser import (
    astronaut_jpeg,
    choose_photo,
    open_home,
    pick_style,
    wait_for_result,
)

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 667}


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return astronaut_jpeg(tmp_path_factory.mktemp("images") / "astronaut.jpg")


@pytest.fixture(scope="module")
def not_a_photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("images") / "notes.jpg"
    path.write_text("This is a shopping list, not a photo.\nmilk\neggs\n")
    return path


def test_phone_upload_cartoon_download_and_delete(
    live_server: str, open_page, shots, photo: Path, tmp_path: Path
) -> None:
    w = open_page(phone=True, viewport=PHONE)
    page = w.page
    open_home(w, live_server)
    shots(page, "home")

    choose_photo(w, photo)
    pick_style(w, "cartoon")
    shots(page, "photo-and-style")
    page.click("#submit")
    page.locator("#status").wait_for(state="visible")
    wait_for_result(w)
    shots(page, "result")

    assert page.locator("#result-image").evaluate("img => img.naturalWidth") > 0
    assert page.locator("#original-image").evaluate("img => img.naturalWidth") > 0
    assert page.locator("#status").text_content().startswith("Done")
    assert page.locator("#compare-range").is_visible()
    # Nothing is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    href = page.locator("#download").get_attribute("href")
    assert href is not None and "/v1/jobs/" in href and "download=1" in href
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
    shots(page, "deleted")
    w.assert_clean()


def test_not_an_image_then_a_good_photo(
    live_server: str, open_page, shots, photo: Path, not_a_photo: Path
) -> None:
    w = open_page()
    page = w.page
    open_home(w, live_server)
    pick_style(w, "cartoon")

    page.set_input_files("#file-input", str(not_a_photo))
    error = page.locator("#error")
    error.wait_for(state="visible")
    shots(page, "not-a-photo")
    assert error.get_attribute("data-code") == "unsupported_image"
    assert "isn’t a photo we can read" in error.text_content()
    # The form is still there, usable, and keeps the chosen style.
    assert page.locator("#submit").is_enabled()
    assert page.locator("#dropzone").is_visible()
    assert page.locator('.style-card[data-style="cartoon"] input').is_checked()

    choose_photo(w, photo)
    assert error.is_hidden()
    page.click("#submit")
    wait_for_result(w)
    shots(page, "result")
    # The refused file was answered by POST /v1/faces (415), which Chromium logs.
    w.assert_clean(allow_console=("status of 415",))
