"""A real server process and a real HTTP client: the path of one image, and bad input."""

from __future__ import annotations

import io
import subprocess

import numpy as np
import pytest
from PIL import Image

from tests.support.images import bomb_png, jpeg_bytes, photo, png_bytes, truncated_jpeg
from tests.support.server import PIXSERVE, wait_for_status

pytestmark = pytest.mark.e2e


def open_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def submit(client, data: bytes, style: str, name: str = "photo.jpg", **fields):
    return client.post("/v1/jobs", files={"file": (name, data)}, data={"style": style, **fields})


def test_catalog_lists_the_builtin_styles(client):
    styles = {s["name"]: s for s in client.get("/v1/styles").json()["styles"]}
    assert {"cartoon", "pencil", "watercolor", "oil", "mosaic", "oil-fast"} <= set(styles)
    for name in ("cartoon", "mosaic", "oil-fast"):  # classical, and trained by pixserve
        assert styles[name]["thumbnail_url"]
        thumb = client.get(f"/v1/styles/{name}/thumbnail")
        assert thumb.status_code == 200 and open_image(thumb.content).width > 0


def test_one_photo_from_upload_to_result(client):
    data = jpeg_bytes(photo("astronaut"))  # 512×512
    response = submit(client, data, "cartoon")
    assert response.status_code == 202, response.text
    job = response.json()
    done = wait_for_status(client, job["id"], {"succeeded", "failed"})
    assert done["status"] == "succeeded", done
    assert done["progress"] == 1.0 and done["started_at"] and done["finished_at"]
    result = client.get(done["result_url"])
    assert result.status_code == 200
    assert open_image(result.content).size == (512, 512)


def test_translate_returns_the_image(client):
    response = client.post(
        "/v1/translate",
        files={"file": ("p.png", png_bytes(photo("coffee")))},
        data={"style": "pencil"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/")
    assert open_image(response.content).size == (600, 400)


def test_a_phone_photo_comes_back_upright(client):
    # The sensor stored it landscape (60×40) and EXIF says "rotate 90° clockwise".
    pixels = np.zeros((40, 60, 3), np.uint8)
    pixels[:, :30] = (230, 30, 30)  # red on the stored left = the upright top
    job_id = submit(client, jpeg_bytes(pixels, exif_orientation=6), "pencil-color").json()["id"]
    done = wait_for_status(client, job_id, {"succeeded", "failed"})
    assert done["status"] == "succeeded", done
    result = open_image(client.get(done["result_url"]).content).convert("RGB")
    assert result.size == (40, 60)
    top, bottom = np.asarray(result)[:20], np.asarray(result)[40:]
    assert top[..., 0].mean() - top[..., 2].mean() > bottom[..., 0].mean() - bottom[..., 2].mean()


def test_no_gps_leaves_with_the_result(client):
    data = png_bytes(photo("chelsea"), gps=True)
    assert b"Exif" in data or b"eXIf" in data
    job_id = submit(client, data, "watercolor", name="cat.png").json()["id"]
    done = wait_for_status(client, job_id, {"succeeded", "failed"})
    body = client.get(done["result_url"]).content
    assert not open_image(body).getexif()
    assert b"Exif" not in body and b"GPS" not in body


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"Dear server, this is not a picture.\n", 415, "unsupported_image"),
        (truncated_jpeg(), 422, "corrupt_image"),
        (bomb_png(20_000, 20_000), 413, "image_too_large"),
    ],
    ids=["text", "truncated-jpeg", "20000x20000-png"],
)
def test_bad_uploads_are_refused_and_the_server_keeps_serving(client, data, status, code):
    response = submit(client, data, "cartoon")
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert client.get("/healthz").status_code == 200
    assert client.get("/v1/styles").status_code == 200


def test_delete_removes_the_job(client):
    job_id = submit(client, jpeg_bytes(photo("coffee")), "oil").json()["id"]
    assert client.delete(f"/v1/jobs/{job_id}").json()["deleted"] is True
    assert client.get(f"/v1/jobs/{job_id}").json()["error"]["code"] == "job_not_found"


def test_the_page_and_its_assets_come_from_the_app(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "http://" not in page.text.replace("http://www.w3.org", "")
    assert "https://" not in page.text
    assert client.get("/docs").status_code == 200


def test_cli_run_writes_every_input_and_shows_progress(tmp_path):
    first, second = tmp_path / "photo1.jpg", tmp_path / "photo2.png"
    first.write_bytes(jpeg_bytes(photo("astronaut")))
    second.write_bytes(png_bytes(photo("coffee")))
    out = tmp_path / "out"
    done = subprocess.run(
        [*PIXSERVE, "run", str(first), str(second), "--style", "pencil", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in out.iterdir())
    assert written == ["photo1-pencil.jpg", "photo2-pencil.jpg"]
    assert open_image((out / "photo2-pencil.jpg").read_bytes()).size == (600, 400)
    assert "100%" in done.stderr and "2/2" in done.stderr  # the progress bar


def test_cli_run_reports_a_bad_file_and_goes_on(tmp_path):
    good, bad = tmp_path / "good.jpg", tmp_path / "bad.jpg"
    good.write_bytes(jpeg_bytes(photo("coffee")))
    bad.write_text("not an image")
    done = subprocess.run(
        [*PIXSERVE, "run", str(bad), str(good), "-s", "oil", "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "unsupported_image" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / "o" / "good-oil.jpg").exists()
