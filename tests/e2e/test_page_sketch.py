"""Styles from a style folder that change the photo step. The sketch pad: a style that takes
drawings (``[input] kind = "sketch"``) swaps the photo step for a canvas; mouse and finger
draw, undo and clear work, and the drawing (a PNG, dark lines on white) is submitted like a
photo and comes back as a picture. A style that wants a square (``[input] aspect = 1.0``)
keeps the crop box square around the face."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from tests.support.browser import (
    PageWatch,
    astronaut_jpeg,
    choose_photo,
    crop_box,
    image_of,
    open_home,
    pick_style,
    touch_drag,
    wait_for_result,
)
from tests.support.server import ServerProcess

pytestmark = pytest.mark.e2e

SKETCH_STYLE = "sketch-face"
SQUARE_STYLE = "square-cartoon"
SKETCH_TOML = f'''name = "{SKETCH_STYLE}"
title = "Sketch to face"
description = "Turns a line drawing into a picture (a test stand-in: a cartoon operator)."
kind = "builtin"
fast = true

[builtin]
operator = "cartoon"

[input]
kind = "sketch"
aspect = 1.0

[pipeline]
max_side = 512
'''
SQUARE_TOML = f'''name = "{SQUARE_STYLE}"
title = "Square cartoon"
description = "A cartoon of a square part of the photo."
kind = "builtin"
fast = true

[builtin]
operator = "cartoon"

[input]
aspect = 1.0
'''


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose catalogue also has a sketch style and a square one, from a style folder."""
    styles = tmp_path_factory.mktemp("styles")
    for name, toml in ((SKETCH_STYLE, SKETCH_TOML), (SQUARE_STYLE, SQUARE_TOML)):
        (styles / name).mkdir()
        (styles / name / "style.toml").write_text(toml)
    env = {"PIXSERVE_STYLES_PATH": str(styles)}
    proc = ServerProcess(tmp_path_factory.mktemp("pixserve-data"), env=env).start()
    try:
        yield proc
    finally:
        assert proc.terminate(), proc.log()


def ink(w: PageWatch) -> int:
    """How many pixels of the pad are dark."""
    return w.page.evaluate(
        """() => {
            const c = document.querySelector('#sketch-pad');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++;
            return n;
        }"""
    )


def draw(w: PageWatch, points: list[tuple[float, float]]) -> None:
    """One mouse stroke through ``points`` (fractions of the pad's width and height)."""
    pad = w.page.locator("#sketch-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    at = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    w.page.mouse.move(*at[0])
    w.page.mouse.down()
    for x, y in at[1:]:
        w.page.mouse.move(x, y, steps=4)
    w.page.mouse.up()


def face_outline() -> list[tuple[float, float]]:
    angles = np.linspace(0, 2 * np.pi, 24)
    return [(0.5 + 0.3 * np.cos(a), 0.5 + 0.38 * np.sin(a)) for a in angles]


def test_draw_undo_clear_and_submit_a_sketch(live_server: str, open_page, shots) -> None:
    w = open_page(has_touch=True)
    page = w.page
    open_home(w, live_server)
    card = page.locator(f'.style-card[data-style="{SKETCH_STYLE}"]')
    assert "Draw" in card.text_content()
    pick_style(w, SKETCH_STYLE)
    assert page.locator("#sketch-box").is_visible()
    assert page.locator("#photo-input").is_hidden()
    assert page.locator("#step-photo-text").text_content() == "Draw a sketch"
    assert page.locator("#sketch-pad").evaluate("c => [c.width, c.height]") == [512, 512]

    # Nothing drawn yet: the page says so instead of sending a blank page.
    page.click("#submit")
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert error.get_attribute("data-code") == "no_sketch"
    shots(page, "empty-pad")

    draw(w, face_outline())
    assert error.is_hidden()
    one = ink(w)
    assert one > 500
    # A second stroke with a finger: the eyes' line.
    box = page.locator("#sketch-pad").bounding_box()
    assert box is not None
    y = box["y"] + box["height"] * 0.42
    touch_drag(page, (box["x"] + box["width"] * 0.35, y), (box["x"] + box["width"] * 0.65, y))
    two = ink(w)
    assert two > one
    page.click("#sketch-undo")
    assert ink(w) == one
    page.click("#sketch-clear")
    assert ink(w) == 0

    draw(w, face_outline())
    draw(w, [(0.38, 0.4), (0.44, 0.4)])
    draw(w, [(0.56, 0.4), (0.62, 0.4)])
    draw(w, [(0.4, 0.65), (0.5, 0.7), (0.6, 0.65)])
    shots(page, "drawing")
    page.click("#submit")
    wait_for_result(w)
    shots(page, "result")

    sent = w.forms("/v1/jobs")[-1]
    assert sent["style"] == SKETCH_STYLE
    assert "crop" not in sent
    drawing = image_of(sent["file"])
    assert drawing.format == "PNG" and drawing.size == (512, 512)
    pixels = np.asarray(drawing.convert("L"))
    assert pixels[0, 0] == 255 and pixels[-1, -1] == 255  # white paper
    assert (pixels < 64).sum() > 1000  # dark lines
    assert page.locator("#result-image").evaluate("i => i.naturalWidth") == 512
    assert page.locator("#compare-range").is_visible()  # the drawing is the "before"

    # Back to a photo style: the photo step returns.
    page.click("#another-style")
    pick_style(w, "cartoon")
    assert page.locator("#photo-input").is_visible()
    assert page.locator("#sketch-box").is_hidden()
    w.assert_clean()


def test_a_square_style_keeps_the_crop_square(
    live_server: str, open_page, shots, tmp_path_factory: pytest.TempPathFactory
) -> None:
    photo = astronaut_jpeg(tmp_path_factory.mktemp("images") / "astronaut.jpg")
    w = open_page()
    page = w.page
    open_home(w, live_server)
    pick_style(w, SQUARE_STYLE)
    choose_photo(w, photo)
    square = crop_box(w)
    assert square["w"] == pytest.approx(square["h"], abs=2)
    assert square["w"] < 400  # around the face, not the whole photo
    shots(page, "square-crop")
    # A style of any shape: the box goes back around the face, in the face's own shape.
    pick_style(w, "cartoon")
    free = crop_box(w)
    assert abs(free["w"] - free["h"]) > 10
    # Moved by the visitor, then a square style again: square, around the same centre.
    page.focus("#crop-stage")
    page.keyboard.press("ArrowRight")
    moved = crop_box(w)
    pick_style(w, SQUARE_STYLE)
    again = crop_box(w)
    assert again["w"] == pytest.approx(again["h"], abs=2)
    centre = (moved["x"] + moved["w"] / 2, moved["y"] + moved["h"] / 2)
    assert again["x"] + again["w"] / 2 == pytest.approx(centre[0], abs=3)
    page.click("#submit")
    wait_for_result(w)
    sent = w.forms("/v1/jobs")[-1]
    _, _, cw, ch = (int(v) for v in str(sent["crop"]).split(","))
    assert cw == pytest.approx(ch, abs=1)
    natural = page.locator("#result-image").evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert natural[0] == pytest.approx(natural[1], abs=1)
    shots(page, "square-result")
    w.assert_clean()
