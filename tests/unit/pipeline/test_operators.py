"""Each built-in operator on real photos: the contract, and a property that fits its name."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pixserve.pipeline import OPERATORS

CASES = {
    "cartoon": ("cartoon", {}),
    "pencil": ("pencil", {}),
    "pencil-color": ("pencil", {"color": True}),
    "watercolor": ("watercolor", {}),
    "oil": ("oil", {}),
}


def render(case: str, pixels: np.ndarray, **overrides: object) -> np.ndarray:
    name, params = CASES[case]
    op = OPERATORS[name]
    return op(pixels, op.parse({**params, **overrides}))


def grey(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)


def saturation(img: np.ndarray) -> float:
    return float(cv2.cvtColor(img, cv2.COLOR_RGB2HSV)[..., 1].mean())


def band_energy(img: np.ndarray) -> float:
    """Mean |DoG| between σ 1 and 4: the mid-scale detail that painting flattens."""
    g = grey(img)
    return float(np.abs(cv2.GaussianBlur(g, (0, 0), 1) - cv2.GaussianBlur(g, (0, 0), 4)).mean())


def coherence(img: np.ndarray) -> float:
    """How much the local gradients agree in direction (1 = parallel strokes everywhere)."""
    g = grey(img)
    gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)
    jxx, jyy, jxy = (cv2.GaussianBlur(a, (0, 0), 3) for a in (gx * gx, gy * gy, gx * gy))
    return float(np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2).sum() / (jxx + jyy).sum())


@pytest.mark.parametrize("case", CASES)
def test_contract_on_a_photo(case: str, photo: np.ndarray) -> None:
    out = render(case, photo)
    assert out.shape == photo.shape
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, render(case, photo), err_msg="not deterministic")
    assert np.abs(out.astype(np.float32) - photo).mean() > 6, "barely changed the photo"


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (3, 500), (500, 3), (17, 1), (31, 47)])
def test_tiny_and_odd_sizes(case: str, shape: tuple[int, int]) -> None:
    pixels = np.random.default_rng(1).integers(0, 256, (*shape, 3), dtype=np.uint8)
    out = render(case, pixels)
    assert out.shape == pixels.shape
    assert out.dtype == np.uint8


@pytest.mark.parametrize("case", CASES)
def test_scale_aware(case: str, astronaut: np.ndarray) -> None:
    """A 4× larger photo, shrunk back afterwards, looks like the small one's result."""
    big = cv2.resize(astronaut, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    small_out = render(case, astronaut)
    big_out = cv2.resize(render(case, big), astronaut.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert abs(float(small_out.mean()) - float(big_out.mean())) < 6
    assert band_energy(big_out) == pytest.approx(band_energy(small_out), rel=0.3)


def test_cartoon_has_few_colours_and_ink(photo: np.ndarray) -> None:
    out = render("cartoon", photo)
    colours_in = len(np.unique(photo.reshape(-1, 3), axis=0))
    colours_out = len(np.unique(out.reshape(-1, 3), axis=0))
    assert colours_out < colours_in / 20
    dark_in = float((grey(photo) < 50).mean())
    dark_out = float((grey(out) < 50).mean())
    assert dark_out > dark_in + 0.05, "no ink outlines"


def test_cartoon_without_edges_is_a_pure_palette(chelsea: np.ndarray) -> None:
    out = render("cartoon", chelsea, edges=0.0, colors=5)
    assert len(np.unique(out.reshape(-1, 3), axis=0)) <= 5


def test_pencil_is_grey_and_mostly_paper(photo: np.ndarray) -> None:
    out = render("pencil", photo)
    assert saturation(out) < 1.0
    assert float(grey(out).mean()) > 170, "a sketch is mostly white paper"


def test_pencil_color_keeps_some_colour_but_less(photo: np.ndarray) -> None:
    out = render("pencil-color", photo)
    assert 10 < saturation(out) < saturation(photo)
    assert float(grey(out).mean()) > float(grey(photo).mean())


def test_watercolor_is_softer_and_lighter(photo: np.ndarray) -> None:
    out = render("watercolor", photo)
    assert band_energy(out) < 0.95 * band_energy(photo)
    assert float(grey(out).mean()) > float(grey(photo).mean()) + 5


def test_oil_paints_flat_patches(photo: np.ndarray) -> None:
    flat = render("oil", photo, strokes=0.0, relief=0.0)
    assert band_energy(flat) < 0.95 * band_energy(photo)


def test_oil_strokes_follow_the_shapes(photo: np.ndarray) -> None:
    assert coherence(render("oil", photo)) > coherence(photo) + 0.03


@pytest.mark.parametrize(
    ("name", "params"),
    [("cartoon", {"colors": "many"}), ("pencil", {"color": 1}), ("oil", {"brush": 100.0})],
)
def test_bad_params_are_refused(name: str, params: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        OPERATORS[name].parse(params)


def test_operators_refuse_non_rgb_input() -> None:
    with pytest.raises(ValueError, match="RGB uint8"):
        OPERATORS["pencil"](np.zeros((4, 4), np.uint8))


@pytest.mark.parametrize("case", CASES)
def test_operators_report_their_stages(case: str, astronaut: np.ndarray) -> None:
    """Progress from inside: several rising fractions while the filter runs, ending at 1."""
    name, params = CASES[case]
    op = OPERATORS[name]
    seen: list[float] = []
    out = op(astronaut, op.parse(params), seen.append)
    assert len(set(seen)) >= 4, seen
    assert seen == sorted(seen) and seen[0] > 0 and seen[-1] == 1.0
    np.testing.assert_array_equal(out, op(astronaut, op.parse(params)))  # same image
