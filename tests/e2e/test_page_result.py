"""The job and its result in a real browser: the Enlarge card picks an upscaler and every card
says the size it will give; progress and the ETA move while the job waits and runs; the
result sits in a before/after slider (drag and keyboard), opens at full size, downloads,
shares (copy-link where there is no Web Share API), shows its real size, and is deleted."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.browser import (
    astronaut_jpeg,
    choose_photo,
    image_of,
    open_home,
    record_status,
    status_log,
    wait_for_result,
)
from tests.support.server import wait_for_status

pytestmark = pytest.mark.e2e

UPSCALER = "waifu2x-photo-2x"


@pytest.fixture(scope="module")
def astronaut(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return astronaut_jpeg(tmp_path_factory.mktemp("images") / "astronaut.jpg")


def submit_api(client: httpx.Client, photo: Path, style: str) -> str:
    response = client.post(
        "/v1/jobs", files={"file": ("a.jpg", photo.read_bytes())}, data={"style": style}
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


def chosen_style(page) -> str:
    return page.locator("#styles input[name=style]:checked").get_attribute("value")


def test_enlarge_card_and_the_size_each_card_gives(
    live_server: str, open_page, shots, astronaut: Path, client: httpx.Client
) -> None:
    w = open_page()
    page = w.page
    open_home(w, live_server)
    catalog = client.get("/v1/styles").json()["styles"]
    upscalers = [s["name"] for s in catalog if (s.get("group") or {}).get("name") == "enlarge"]
    assert len(upscalers) > 3
    # One card for all of them.
    assert page.locator('[data-testid="enlarge-card"]').count() == 1
    for name in upscalers:
        assert page.locator(f'.style-card[data-style="{name}"]').count() == 0

    choose_photo(w, astronaut)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=style-size]')]"
        ".every(el => el.textContent.includes('×'))"
    )
    page.wait_for_load_state("networkidle")  # the answer for the face's crop is in
    shots(page, "sizes")
    # The sizes are the server's answer for the crop the page shows.
    sizes_url = next(u for u in reversed(w.urls) if "/v1/styles?" in u and "width=" in u)
    query = parse_qs(urlsplit(sizes_url).query)
    answer = client.get(
        "/v1/styles", params={"width": query["width"][0], "height": query["height"][0]}
    ).json()
    output = {s["name"]: s["output_size"] for s in answer["styles"]}
    cartoon = page.locator('.style-card[data-style="cartoon"] [data-testid=style-size]')
    want = output["cartoon"]
    assert f"{want['width']} × {want['height']}" in cartoon.text_content()

    card = page.locator('[data-testid="enlarge-card"]')
    card.locator(".segment", has_text="3×").click()
    three = chosen_style(page)
    assert three in upscalers and "3x" in three
    assert card.locator("input[name=enlarge-content]:checked").get_attribute("value") == "drawing"
    size3 = output[three]
    size_text = card.locator("[data-testid=style-size]").text_content()
    assert f"{size3['width']} × {size3['height']}" in size_text
    title = next(s["title"] for s in catalog if s["name"] == three)
    assert card.locator("[data-testid=enlarge-uses]").text_content() == f"Uses {title}"
    shots(page, "enlarge-3x")

    card.locator(".segment", has_text="Photo").click()
    assert chosen_style(page) == UPSCALER
    card.locator("select").select_option("1")
    assert chosen_style(page) == f"{UPSCALER}-noise1"
    card.locator("select").select_option("")
    assert chosen_style(page) == UPSCALER
    shots(page, "enlarge-photo")
    w.assert_clean()


def test_progress_eta_and_the_result_slider(
    live_server: str, open_page, shots, astronaut: Path, client: httpx.Client, tmp_path: Path
) -> None:
    # A first run of the style gives the server its timing; a second one runs while the
    # page's job waits behind it.
    wait_for_status(client, submit_api(client, astronaut, UPSCALER), {"succeeded"}, timeout=120)

    w = open_page(permissions=["clipboard-read", "clipboard-write"])
    page = w.page
    open_home(w, live_server)
    choose_photo(w, astronaut)
    page.click("#crop-all")
    card = page.locator('[data-testid="enlarge-card"]')
    card.locator(".enlarge-head").click()
    card.locator(".segment", has_text="2×").click()
    card.locator(".segment", has_text="Photo").click()
    card.locator("select").select_option("")
    assert chosen_style(page) == UPSCALER
    record_status(w)

    blocker = submit_api(client, astronaut, UPSCALER)
    page.click("#submit")
    page.wait_for_function("() => document.querySelector('#status').textContent.length > 0")
    shots(page, "submitted")
    page.wait_for_function(
        "() => /Working on it — [1-9]/.test(document.querySelector('#status').textContent)",
        timeout=120_000,
    )
    shots(page, "running")
    wait_for_result(w)
    shots(page, "result")
    wait_for_status(client, blocker, {"succeeded"})

    log = status_log(w)
    assert any(line.startswith("Waiting in the queue") for line in log), log
    assert any("Ready in about" in line for line in log), log
    percents = {
        int(m.group(1)) for line in log if (m := re.search(r"Working on it — (\d+) %", line))
    }
    assert len({p for p in percents if 0 < p < 100}) >= 2, log
    assert any("left" in line for line in log if line.startswith("Working on it")), log
    assert page.locator("#status").text_content().startswith("Done")

    # The real size of the picture.
    natural = page.locator("#result-image").evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert natural == [1024, 1024]
    assert page.locator("#result-size").text_content() == "1024 × 1024 pixels"

    # Before/after: a real slider, by keyboard…
    slider = page.locator("#compare-range")
    assert slider.is_visible()
    assert slider.evaluate("s => s.value") == "50"
    assert page.locator("#original-image").evaluate("i => i.naturalWidth") == 512
    slider.focus()
    for _ in range(10):
        page.keyboard.press("ArrowLeft")
    assert slider.evaluate("s => s.value") == "40"
    assert slider.get_attribute("aria-valuetext") == "40 % original"
    split = page.locator("#compare-frame").evaluate("f => f.style.getPropertyValue('--split')")
    assert split == "40%"
    page.keyboard.press("End")
    assert slider.evaluate("s => s.value") == "100"
    page.keyboard.press("Home")
    assert slider.evaluate("s => s.value") == "0"
    # …and by dragging across the picture.
    frame = page.locator("#compare-frame").bounding_box()
    assert frame is not None
    y = frame["y"] + frame["height"] / 2
    page.mouse.move(frame["x"] + frame["width"] * 0.2, y)
    page.mouse.down()
    page.mouse.move(frame["x"] + frame["width"] * 0.8, y, steps=6)
    page.mouse.up()
    assert 70 <= int(slider.evaluate("s => s.value")) <= 90
    shots(page, "slider-dragged")

    # Full size: the picture at its own pixels, closed with Escape.
    page.click("#zoom")
    dialog = page.locator("#zoom-dialog")
    dialog.wait_for(state="visible")
    page.wait_for_function("() => document.querySelector('#zoom-image').naturalWidth > 0")
    assert page.locator("#zoom-image").evaluate("i => i.getBoundingClientRect().width") == 1024
    shots(page, "full-size", full_page=False)
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")

    # Download: the picture itself.
    link = page.locator("#download")
    assert link.get_attribute("download") is not None
    with page.expect_download() as download_info:
        link.click()
    saved = tmp_path / "download"
    download_info.value.save_as(saved)
    assert image_of(saved.read_bytes()).size == (1024, 1024)

    # Share: the Web Share API where the browser has one, else the link is copied.
    result_path = page.locator("#result-image").get_attribute("src")
    if page.evaluate("() => typeof navigator.share") == "undefined":
        page.click("#share")
        page.locator("#share-note").wait_for(state="visible")
        assert page.locator("#share-note").text_content().startswith("Link copied")
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert copied == live_server + result_path
        shots(page, "link-copied")

    # Delete: gone from the server, and the page says so.
    page.click("#delete")
    page.wait_for_function(
        "() => document.querySelector('#status').textContent.startsWith('Deleted')"
    )
    assert page.locator("#result-image").is_hidden()
    assert page.locator("#compare-range").is_hidden()
    shots(page, "deleted")
    deadline = time.monotonic() + 10
    while client.get(result_path).status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert client.get(result_path).status_code in (404, 410)
    w.assert_clean()
