"""``Pipeline.output_size``: the size a style promises before upload is the size it returns.

Each case renders for real and compares: a promise computed by other code than the steps'
own would drift the first time a step changed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pixserve.domain import Crop
from pixserve.imaging import decode_image
from pixserve.inference import EngineCache
from pixserve.pipeline import Catalog, Kind, build_pipeline, load_bundle
from pixserve.pipeline.renderer import Renderer
from tests.support.images import jpeg_bytes
from tests.unit.inference import tiny_models
from tests.unit.pipeline.bundles import onnx_toml, write_bundle
from tests.unit.pipeline.test_tiling import local_upscaler

BUILTINS = [s.name for s in Catalog.load([], strict=True) if s.kind is not Kind.UPSCALER]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(Catalog.load([], strict=True), EngineCache())


def noise(width: int, height: int) -> np.ndarray:
    return np.random.default_rng(width * height).integers(0, 256, (height, width, 3), np.uint8)


@pytest.mark.parametrize("size", [(2999, 2001), (1601, 1067), (37, 23)])
@pytest.mark.parametrize("style", BUILTINS)
def test_built_in_styles_return_the_promised_size(
    renderer: Renderer, style: str, size: tuple[int, int]
) -> None:
    """The issue's complaint: oil returned 1024×683 from a 3000×2000 upload unannounced."""
    width, height = size
    promised = renderer.output_size(style, width, height)
    out = renderer.render(style, noise(width, height))
    assert promised == (out.shape[1], out.shape[0])


def test_the_promise_for_a_crop_is_the_crops(renderer: Renderer) -> None:
    photo = noise(3000, 2000)
    out = renderer.render("oil", photo, crop=Crop(100, 50, 1501, 999))
    assert renderer.output_size("oil", 1501, 999) == (out.shape[1], out.shape[0]) == (1024, 682)


@pytest.mark.parametrize(
    ("model_lines", "pipeline_lines"),
    [
        ('range = "0..1"\nscale = 2\ntile = 64\ntile_overlap = 16', "max_side = 301"),
        ('range = "0..1"\nscale = 2', 'max_side = 100\npost = ["sharpen", "resize_to_input"]'),
        ('range = "0..1"\nscale = 2\ninput_size = 64', "max_side = 250"),
        ('range = "0..1"\nscale = 2', 'max_side = 99\npost = ["normalise_colours"]'),
    ],
    ids=["tiled", "resize-to-input", "fixed-input-size", "colours"],
)
def test_model_styles_return_the_promised_size(
    tmp_path: Path, model_lines: str, pipeline_lines: str
) -> None:
    model = local_upscaler(tmp_path / "m.onnx", scale=2, layers=2)
    bundle = write_bundle(tmp_path, "s", onnx_toml("s", model_lines, pipeline_lines), model)
    pipeline = build_pipeline(load_bundle(bundle), EngineCache(threads=1))
    for width, height in [(333, 211), (17, 300), (1, 1)]:
        out = pipeline.run(noise(width, height))
        assert pipeline.output_size(width, height) == (out.shape[1], out.shape[0])


def test_a_face_styles_promise_holds_for_a_cropped_photo(tmp_path: Path) -> None:
    toml = (
        'name = "f"\nkind = "onnx"\n[model]\nrange = "0..1"\nscale = 2\n'
        "[pipeline]\nmax_side = 200\nface = { required = true }\n"
    )
    bundle = write_bundle(tmp_path, "f", toml, tiny_models.upscale2(tmp_path / "m.onnx"))
    pipeline = build_pipeline(load_bundle(bundle), EngineCache(threads=1))
    out = pipeline.run(noise(640, 480), crop=Crop(10, 20, 301, 257))
    assert pipeline.output_size(301, 257) == (out.shape[1], out.shape[0]) == (400, 342)


def test_sizes_are_at_least_one_pixel(renderer: Renderer) -> None:
    with pytest.raises(ValueError, match="at least 1×1"):
        renderer.pipeline("oil").output_size(0, 10)
    assert renderer.output_size("pencil", 20_000, 1) == (1600, 1)


@pytest.mark.parametrize("size", [(4032, 3024), (2999, 2001), (3001, 4003)])
@pytest.mark.parametrize("style", ["oil", "pencil", "mosaic"])
def test_a_photo_decoded_near_the_limit_keeps_the_promise(
    renderer: Renderer, style: str, size: tuple[int, int]
) -> None:
    """The worker decodes a large JPEG at a fraction of its size (``decode_side``): the
    result must still be the size promised for the full photo."""
    side = renderer.decode_side(style, None)
    assert side == renderer.pipeline(style).style.max_side
    jpeg = jpeg_bytes(noise(*size))
    decoded = decode_image(jpeg, max_bytes=10**8, max_pixels=10**8, fit=side)
    out = renderer.render(style, decoded.pixels)
    assert renderer.output_size(style, *size) == (out.shape[1], out.shape[0])


def test_only_a_whole_photo_shrunk_first_decodes_near_the_limit(tmp_path: Path) -> None:
    """A crop is in full-size pixels, a face is looked for in the full photo, and
    ``resize_to_input`` returns the full size: those decode in full."""
    model = tiny_models.upscale2(tmp_path / "m.onnx")
    cases = {
        "plain": ("max_side = 300", 300),
        "sized": ('max_side = 300\npost = ["resize_to_input"]', None),
        "face": ("max_side = 300\nface = { required = true }", None),
    }
    for name, (lines, side) in cases.items():
        toml = f'name = "{name}"\nkind = "onnx"\n[model]\nrange = "0..1"\nscale = 2\n'
        bundle = write_bundle(tmp_path, name, toml + f"[pipeline]\n{lines}\n", model)
        pipeline = build_pipeline(load_bundle(bundle), EngineCache(threads=1))
        assert pipeline.decode_side(None) == side, name
        assert pipeline.decode_side(Crop(0, 0, 10, 10)) is None
