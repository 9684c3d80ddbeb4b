"""The page on a 360×740 touch screen: the whole visit with a finger (tap, drag the crop,
drag the before/after slider), nothing wider than the screen, targets big enough to tap."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.browser import (
    PHONE,
    astronaut_jpeg,
    choose_photo,
    crop_box,
    open_home,
    touch_drag,
    wait_for_result,
)

pytestmark = pytest.mark.e2e

MIN_TARGET = 40  # CSS pixels: the smallest thing a finger should have to hit


@pytest.fixture(scope="module")
def astronaut(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return astronaut_jpeg(tmp_path_factory.mktemp("images") / "astronaut.jpg")


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def small_targets(page, selector: str) -> list[str]:
    """Visible buttons and links under ``selector`` smaller than MIN_TARGET in height."""
    return page.evaluate(
        """([selector, min]) => [...document.querySelectorAll(selector)]
            .filter(el => el.offsetParent !== null)
            .filter(el => el.getBoundingClientRect().height < min)
            .map(el => el.id || el.textContent.trim())""",
        [selector, MIN_TARGET],
    )


def test_a_visit_on_a_phone(live_server: str, open_page, shots, astronaut: Path) -> None:
    w = open_page(phone=True)
    page = w.page
    open_home(w, live_server)
    shots(page, "home")
    assert fits_the_screen(page)
    assert page.evaluate("matchMedia('(pointer: coarse)').matches")

    choose_photo(w, astronaut)
    shots(page, "crop-on-face")
    assert fits_the_screen(page)
    before = crop_box(w)
    # Move the crop box with a finger: down and to the right.
    box = page.locator(".cropper-face").bounding_box()
    assert box is not None
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    touch_drag(page, centre, (centre[0] + 40, centre[1] + 40))
    after = crop_box(w)
    assert after["x"] > before["x"] + 5 and after["y"] > before["y"] + 5
    shots(page, "crop-moved")

    page.locator('.style-card[data-style="cartoon"]').tap()
    assert page.locator('.style-card[data-style="cartoon"] input').is_checked()
    assert small_targets(page, "#job-form button, #job-form .segment span") == []
    page.locator("#submit").tap()
    wait_for_result(w)
    shots(page, "result")
    assert fits_the_screen(page)
    assert small_targets(page, "#job-panel button, #job-panel a.btn") == []

    # The before/after slider follows a finger.
    slider = page.locator("#compare-range")
    frame = page.locator("#compare-frame").bounding_box()
    assert frame is not None
    y = frame["y"] + frame["height"] / 2
    touch_drag(
        page, (frame["x"] + frame["width"] * 0.5, y), (frame["x"] + frame["width"] * 0.15, y)
    )
    assert int(slider.evaluate("s => s.value")) <= 30
    shots(page, "slider-moved")

    page.locator("#delete").tap()
    page.wait_for_function(
        "() => document.querySelector('#status').textContent.startsWith('Deleted')"
    )
    shots(page, "deleted")
    assert fits_the_screen(page)
    w.assert_clean()
