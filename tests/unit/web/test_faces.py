"""``POST /v1/faces``: face boxes for the page's crop, within the job submission's limits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from fastapi.testclient import TestClient

from pixserve.pipeline.faces import make_detector
from pixserve.services import FaceService
from pixserve.web import AppContext, create_app
from tests.support.images import jpeg_bytes, orient, photo, truncated_jpeg


@dataclass(frozen=True)
class Box:
    box: tuple[int, int, int, int]
    score: float


class FakeDetector:
    """Finds the boxes it is given, and remembers what it was shown."""

    def __init__(self, *boxes: Box) -> None:
        self.boxes = list(boxes)
        self.seen: list[tuple[int, ...]] = []

    def detect(self, rgb: np.ndarray) -> list[Box]:
        self.seen.append(rgb.shape)
        return self.boxes


def client_for(settings, service, translator, catalog, faces: FaceService | None) -> TestClient:
    ctx = AppContext(
        settings=settings, jobs=service, translate=translator, catalog=catalog, faces=faces
    )
    return TestClient(create_app(ctx), raise_server_exceptions=False)


@pytest.fixture
def detector() -> FakeDetector:
    return FakeDetector()


@pytest.fixture
def client(settings, service, translator, catalog, detector):
    faces = FaceService(lambda: detector, settings)
    with client_for(settings, service, translator, catalog, faces) as c:
        yield c


def post(client: TestClient, data: bytes):
    return client.post("/v1/faces", files={"file": ("p.jpg", data, "image/jpeg")})


def test_boxes_come_largest_first_and_inside_the_image(client, detector):
    detector.boxes = [
        Box((10, 10, 8, 8), 0.9),
        Box((-5, 20, 30, 30), 0.8),  # reaches past the left edge
        Box((50, 35, 20, 20), 0.99),  # past the right and bottom edges of 60×40
        Box((70, 0, 5, 5), 0.7),  # wholly outside: dropped
    ]
    small = jpeg_bytes(np.full((40, 60, 3), 128, np.uint8))
    body = post(client, small).json()
    assert (body["width"], body["height"]) == (60, 40)
    assert body["faces"] == [
        {"x": 0, "y": 20, "width": 25, "height": 20, "score": 0.8},
        {"x": 10, "y": 10, "width": 8, "height": 8, "score": 0.9},
        {"x": 50, "y": 35, "width": 10, "height": 5, "score": 0.99},
    ]


def test_no_face_is_an_empty_list(client, detector, small_jpeg):
    response = post(client, small_jpeg)
    assert response.status_code == 200
    assert response.json() == {"width": 60, "height": 40, "faces": []}


def test_the_detector_sees_the_upright_image(client, detector):
    sideways = jpeg_bytes(orient(np.zeros((40, 60, 3), np.uint8), 6), exif_orientation=6)
    body = post(client, sideways).json()
    assert (body["width"], body["height"]) == (60, 40)
    assert detector.seen == [(40, 60, 3)]


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"just some text", 415, "unsupported_image"),
        (truncated_jpeg(), 422, "corrupt_image"),
        (b"", 422, "invalid_request"),
    ],
)
def test_bad_files_get_the_codes_of_job_submission(client, detector, data, status, code):
    for path, extra in (("/v1/faces", {}), ("/v1/jobs", {"style": "invert"})):
        response = client.post(path, files={"file": ("p.jpg", data, "image/jpeg")}, data=extra)
        assert response.status_code == status, (path, response.text)
        assert response.json()["error"]["code"] == code
    assert detector.seen == []


def test_the_byte_and_pixel_limits_of_job_submission(client, settings, detector, small_jpeg):
    settings.max_pixels = 60 * 40 - 1
    assert post(client, small_jpeg).status_code == 413
    settings.max_pixels = 60 * 40
    assert post(client, small_jpeg).status_code == 200
    settings.max_upload_bytes = len(small_jpeg) - 1
    response = post(client, small_jpeg)
    assert response.status_code == 413 and response.json()["error"]["code"] == "image_too_large"


def test_missing_file(client):
    response = client.post("/v1/faces")
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


def test_a_node_without_a_detector_answers_503(settings, service, translator, catalog, small_jpeg):
    with client_for(settings, service, translator, catalog, None) as client:
        response = post(client, small_jpeg)
    assert response.status_code == 503 and response.json()["error"]["code"] == "unavailable"


def test_the_real_detector_finds_the_astronaut_in_a_sideways_photo(
    settings, service, translator, catalog
):
    """The face step's own detector; the box is in upright coordinates."""
    upright = np.ascontiguousarray(photo("astronaut")[:, 60:460])  # 400 wide, 512 high
    expected = max(make_detector("auto").detect(upright), key=lambda f: f.area)
    faces = FaceService(make_detector, settings)
    with client_for(settings, service, translator, catalog, faces) as client:
        sideways = jpeg_bytes(orient(upright, 6), exif_orientation=6)
        body = post(client, sideways).json()
    assert (body["width"], body["height"]) == (400, 512)
    assert len(body["faces"]) == 1
    face = body["faces"][0]
    ex, ey, ew, eh = expected.box
    assert abs(face["x"] - ex) <= 6 and abs(face["y"] - ey) <= 6
    assert abs(face["width"] - ew) <= 8 and abs(face["height"] - eh) <= 8
    assert 0 < face["score"] <= 1


def test_openapi_documents_faces_with_its_errors(client):
    spec = client.get("/openapi.json").json()
    post_faces = spec["paths"]["/v1/faces"]["post"]
    assert {"200", "413", "415", "422", "503"} <= set(post_faces["responses"])
    schema = post_faces["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/FacesOut")
