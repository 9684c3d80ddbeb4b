from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data


def _photo(image: np.ndarray, longest: int = 384) -> np.ndarray:
    rgb = np.ascontiguousarray(image[..., :3])
    h, w = rgb.shape[:2]
    f = longest / max(h, w)
    return cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """A real photo (portrait, strong colours, dark areas), 384 px on the longer side."""
    return _photo(data.astronaut())


@pytest.fixture(scope="session")
def chelsea() -> np.ndarray:
    """A real photo (cat fur, soft background), 384 px on the longer side."""
    return _photo(data.chelsea())


@pytest.fixture(params=["astronaut", "chelsea"])
def photo(request: pytest.FixtureRequest) -> np.ndarray:
    """Each sample photo in turn."""
    return request.getfixturevalue(request.param)
