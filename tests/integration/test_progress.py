"""Progress that moves, and the size that was promised: a 3000×2000 photo through a tiled
upscaler on a real server, watched through the API as the page watches it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import cv2
import httpx
import pytest

from pixserve.imaging import decode_image
from tests.support.images import jpeg_bytes, photo
from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration

#: The cheapest tiled upscaler at this size: Real-ESRGAN's compact network on the photo
#: limited to 1024 px (max_side), in 256-px tiles: 5×3 = 15 tiles.
STYLE = "realesrgan-animevideov3-3x"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {
        "PIXSERVE_STYLES": STYLE,  # warm (convert) only this model
        "PIXSERVE_PROGRESS_INTERVAL": "0.05",  # the page polls often; so may the worker write
        "PIXSERVE_ETA_CACHE_SECONDS": "0",  # the next job's ETA is read right after the first
        # Status calls are answered from the watch hub, which re-reads a job this often: at
        # its 0.5 s default a fast host finishes the 15 tiles before ten values are seen.
        "PIXSERVE_EVENT_POLL_SECONDS": "0.05",
    }
    proc = ServerProcess(tmp_path_factory.mktemp("progress"), env=env).start(timeout=180)
    try:
        yield proc
    finally:
        assert proc.terminate(), proc.log()


def test_a_big_photo_through_a_tiled_upscaler_shows_progress_and_keeps_its_promise(
    server: ServerProcess,
) -> None:
    big = cv2.resize(photo("astronaut"), (3000, 2000), interpolation=cv2.INTER_CUBIC)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        styles = client.get("/v1/styles", params={"width": 3000, "height": 2000}).json()
        (style,) = [s for s in styles["styles"] if s["name"] == STYLE]
        promised = style["output_size"]
        assert promised == {"width": 3072, "height": 2049}  # 1024×683 after max_side, × 3
        assert style["group"] == {
            "name": "enlarge",
            "scale": 3,
            "content": "drawing",
            "denoise": None,
        }

        submitted = client.post(
            "/v1/jobs", files={"file": ("big.jpg", jpeg_bytes(big))}, data={"style": STYLE}
        )
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["id"]
        progress: list[float] = []
        etas: list[float | None] = []
        deadline = time.monotonic() + 600
        while True:
            body = client.get(f"/v1/jobs/{job_id}").json()
            if body["status"] not in ("queued", "running"):
                break
            if body["status"] == "running":
                progress.append(body["progress"])
                etas.append(body["eta_seconds"])
            assert time.monotonic() < deadline, f"job not done after 600 s: {body}"
            time.sleep(0.02)
        assert body["status"] == "succeeded", body
        distinct = sorted(set(progress))
        assert len(distinct) >= 10, distinct
        assert progress == sorted(progress)  # it only ever moves forward
        # A fresh database has no statistics, yet the running job's pace gives an ETA.
        assert any(eta is not None for eta in etas), etas
        # The size the catalog promised, the size the job reports, the size of the image.
        assert (body["result_width"], body["result_height"]) == (3072, 2049)
        result = client.get(body["result_url"])
        assert result.status_code == 200
        image = decode_image(result.content, max_bytes=10**9, max_pixels=10**9)
        assert image.size == (3072, 2049)

        # The next one of the style has statistics to go on from the start.
        again = client.post(
            "/v1/jobs",
            files={"file": ("small.jpg", jpeg_bytes(photo("astronaut")[:64, :64]))},
            data={"style": STYLE},
        ).json()
        assert again["eta_seconds"] is not None and again["eta_seconds"] > 0
        client.delete(f"/v1/jobs/{job_id}")
