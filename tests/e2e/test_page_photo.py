"""The photo step in a real browser: the crop starts on the face, the visitor adjusts it, the
page sends it as ``crop=`` in the uploaded image's upright pixels; a sideways-EXIF photo
previews and comes back upright; a huge photo is made smaller before it is sent; a text file
renamed ``.jpg`` is refused at once and the page stays usable."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.support.browser import (
    astronaut_jpeg,
    choose_photo,
    crop_box,
    image_of,
    open_home,
    pick_style,
    wait_for_result,
)

pytestmark = pytest.mark.e2e

EXIF_ORIENTATION = 0x0112


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("images")


@pytest.fixture(scope="module")
def astronaut(images: Path) -> Path:
    return astronaut_jpeg(images / "astronaut.jpg")


def faces_of(base: str, path: Path) -> dict:
    response = httpx.post(f"{base}/v1/faces", files={"file": (path.name, path.read_bytes())})
    assert response.status_code == 200, response.text
    return response.json()


def contains(outer: dict, inner: dict, slack: float = 2.0) -> bool:
    return (
        outer["x"] <= inner["x"] + slack
        and outer["y"] <= inner["y"] + slack
        and outer["x"] + outer["w"] >= inner["x"] + inner["width"] - slack
        and outer["y"] + outer["h"] >= inner["y"] + inner["height"] - slack
    )


def sent_crop(w) -> tuple[list[int] | None, Image.Image]:
    """The crop and the image of the page's last POST /v1/jobs."""
    fields = w.forms("/v1/jobs")[-1]
    crop = [int(v) for v in str(fields["crop"]).split(",")] if "crop" in fields else None
    return crop, image_of(fields["file"])


def test_crop_starts_on_the_face_then_follows_the_visitor(
    live_server: str, open_page, shots, astronaut: Path
) -> None:
    face = faces_of(live_server, astronaut)["faces"][0]
    w = open_page()
    page = w.page
    open_home(w, live_server)
    pick_style(w, "cartoon")
    choose_photo(w, astronaut)
    shots(page, "crop-on-face")

    box = crop_box(w)
    assert (box["naturalWidth"], box["naturalHeight"]) == (512, 512)
    assert contains(box, face), (box, face)
    # A margin around the face, not the whole photo.
    assert box["w"] * box["h"] < 0.6 * 512 * 512
    assert box["w"] > face["width"] * 1.5
    assert "found a face" in page.locator("#crop-note").text_content()
    # Each card says what it will give for this crop (cartoon keeps the size).
    size = page.locator('.style-card[data-style="cartoon"] [data-testid=style-size]')
    page.wait_for_function(
        "el => el.textContent.includes('×')", arg=size.element_handle(), timeout=10_000
    )

    # Adjust with the keyboard: two steps right, then bigger.
    page.focus("#crop-stage")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    moved = crop_box(w)
    assert moved["x"] > box["x"] + 10
    page.keyboard.press("Shift+ArrowDown")
    grown = crop_box(w)
    assert grown["w"] > moved["w"]
    # And with the mouse: drag the box's south-east corner further out.
    handle = page.locator(".cropper-point.point-se").bounding_box()
    assert handle is not None
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 30, y + 40, steps=5)
    page.mouse.up()
    final = crop_box(w)
    assert final["w"] > grown["w"] + 10
    shots(page, "crop-adjusted")

    page.click("#submit")
    wait_for_result(w)
    shots(page, "result")
    crop, sent = sent_crop(w)
    assert sent.size == (512, 512)  # small enough: the original bytes are sent
    assert crop is not None
    for got, want in zip(crop, (final["x"], final["y"], final["w"], final["h"]), strict=True):
        assert abs(got - want) <= 3, (crop, final)
    # The "before" half of the slider is that part of the photo.
    before = page.locator("#original-image").evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert before == [crop[2], crop[3]]
    w.assert_clean()


def test_the_crop_stays_on_the_face_when_the_page_changes_width(
    live_server: str, open_page, shots, astronaut: Path
) -> None:
    # Cropper.js measures its box once; a stage that changes width (a rotated phone, a
    # resized window, the page still laying out) used to leave the photo zoomed in and the
    # box in a corner. The page rebuilds it for the new width, keeping the box.
    face = faces_of(live_server, astronaut)["faces"][0]
    w = open_page()
    page = w.page
    open_home(w, live_server)
    pick_style(w, "cartoon")
    choose_photo(w, astronaut)
    before = crop_box(w)
    assert contains(before, face), (before, face)
    for width in (700, 1100):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_function(
            """() => {
                const stage = document.querySelector('#crop-stage');
                return stage.dataset.ready === 'true'
                    && Number(stage.dataset.width) === stage.clientWidth;
            }"""
        )
        after = crop_box(w)
        shots(page, f"width-{width}")
        assert contains(after, face), (width, after, face)
        assert abs(after["w"] - before["w"]) < 3 and abs(after["x"] - before["x"]) < 3
        canvas = page.evaluate(
            "() => document.querySelector('.cropper-canvas').getBoundingClientRect().width"
        )
        stage = page.evaluate("() => document.querySelector('#crop-stage').clientWidth")
        assert canvas <= stage + 1, (canvas, stage)  # the photo fits, not zoomed in
    w.assert_clean()


def test_whole_photo_sends_no_crop(live_server: str, open_page, astronaut: Path) -> None:
    w = open_page()
    open_home(w, live_server)
    pick_style(w, "cartoon")
    choose_photo(w, astronaut)
    w.page.click("#crop-all")
    box = crop_box(w)
    assert box["w"] == pytest.approx(512, abs=2) and box["h"] == pytest.approx(512, abs=2)
    w.page.click("#submit")
    wait_for_result(w)
    crop, _ = sent_crop(w)
    assert crop is None
    w.assert_clean()


def test_sideways_exif_photo_previews_and_comes_back_upright(
    live_server: str, open_page, shots, images: Path
) -> None:
    from skimage import data

    # Upright: a portrait of the astronaut (face at the top). Stored: turned a quarter to
    # the left, with EXIF orientation 6 ("turn me right to view"), as phones write them.
    upright = Image.fromarray(data.astronaut()).crop((96, 0, 416, 480))  # 320×480
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # 480×320
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    path = images / "sideways.jpg"
    stored.save(path, "JPEG", quality=92, exif=exif.tobytes())

    w = open_page()
    page = w.page
    open_home(w, live_server)
    pick_style(w, "cartoon")
    choose_photo(w, path)
    shots(page, "sideways-preview")
    box = crop_box(w)
    assert (box["naturalWidth"], box["naturalHeight"]) == (320, 480)
    assert "320 × 480" in page.locator("#preview-size").text_content()
    # The face was found in the upright picture, near its top.
    face = faces_of(live_server, path)["faces"][0]
    assert face["y"] < 240
    assert contains(box, face)

    page.click("#crop-all")
    page.click("#submit")
    wait_for_result(w)
    shots(page, "sideways-result")
    result_url = page.locator("#result-image").get_attribute("src")
    result = image_of(httpx.get(live_server + result_url).content).convert("L")
    assert result.width < result.height  # portrait, like the upright photo
    # Upright, not upside down: it looks like the upright photo, not the photo turned 180°.
    got = np.asarray(result.resize((80, 120)), dtype=np.float64).ravel()
    want = np.asarray(upright.convert("L").resize((80, 120)), dtype=np.float64).ravel()
    flipped = want.reshape(120, 80)[::-1, ::-1].ravel()
    assert np.corrcoef(got, want)[0, 1] > np.corrcoef(got, flipped)[0, 1] + 0.2
    w.assert_clean()


def test_a_huge_photo_is_made_smaller_before_it_is_sent(
    live_server: str, open_page, shots, images: Path
) -> None:
    big = astronaut_jpeg(images / "astronaut-big.jpg", scale=8)  # 4096×4096
    w = open_page()
    page = w.page
    open_home(w, live_server)
    pick_style(w, "cartoon")
    choose_photo(w, big)
    shots(page, "huge-photo")
    box = crop_box(w)
    # The working copy: no bigger than the most any style uses (2048 here).
    assert max(box["naturalWidth"], box["naturalHeight"]) <= 2048
    assert "made smaller" in page.locator("#preview-size").text_content()
    assert image_of(w.forms("/v1/faces")[-1]["file"]).size == (
        box["naturalWidth"],
        box["naturalHeight"],
    )

    # Cartoon uses at most 1024 pixels a side: the whole photo goes at that size.
    page.click("#crop-all")
    page.click("#submit")
    wait_for_result(w)
    crop, sent = sent_crop(w)
    assert crop is None
    assert sent.size == (1024, 1024)
    assert page.locator("#result-image").evaluate("i => i.naturalWidth") == 1024
    w.assert_clean()


def test_a_text_file_named_jpg_is_refused_and_the_page_stays_usable(
    live_server: str, open_page, shots, astronaut: Path, images: Path
) -> None:
    notes = images / "notes.jpg"
    notes.write_text("Not a photo: a shopping list.\nmilk\neggs\n")
    w = open_page()
    page = w.page
    open_home(w, live_server)
    pick_style(w, "cartoon")
    page.set_input_files("#file-input", str(notes))
    error = page.locator("#error")
    error.wait_for(state="visible")
    shots(page, "refused")
    assert error.get_attribute("data-code") == "unsupported_image"
    assert "isn’t a photo we can read" in error.text_content()
    assert w.forms("/v1/jobs") == []  # refused before any upload of a job
    assert page.locator("#dropzone").is_visible()
    assert page.locator("#submit").is_enabled()

    choose_photo(w, astronaut)
    assert error.is_hidden()
    page.click("#submit")
    wait_for_result(w)
    shots(page, "then-a-photo")
    w.assert_clean(allow_console=("status of 415",))
