"""What a ``Style`` tells the catalog: its input, the crop shape it wants, its group."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pixserve.core.errors import UnknownStyle
from pixserve.inference import EngineCache
from pixserve.pipeline import Catalog, build_pipeline, load_bundle
from pixserve.pipeline.renderer import Renderer
from pixserve.pipeline.tiling import tile_starts
from tests.unit.pipeline.bundles import builtin_toml, write_bundle
from tests.unit.pipeline.test_tiling import local_upscaler


def style_of(tmp_path: Path, toml: str, model: bool = False):
    path = local_upscaler(tmp_path / "m.onnx", scale=1, layers=1) if model else None
    return load_bundle(write_bundle(tmp_path, "s", toml, path))


def test_a_sketch_style_says_so(tmp_path: Path) -> None:
    toml = builtin_toml("s", "pencil") + '[input]\nkind = "sketch"\n'
    info = style_of(tmp_path, toml).info()
    assert (info["input"], info["crop_aspect"], info["group"]) == ("sketch", None, None)


@pytest.mark.parametrize(
    ("extra", "model", "aspect"),
    [
        ("", "", None),
        ("[pipeline]\nface = true\n", "", 1.0),
        ("", "input_size = 64\n", 1.0),
        ("[input]\naspect = 0.75\n[pipeline]\nface = true\n", "", 0.75),
    ],
    ids=["free", "face-step", "fixed-size-model", "declared"],
)
def test_crop_aspect(tmp_path: Path, extra: str, model: str, aspect: float | None) -> None:
    toml = f'name = "s"\nkind = "onnx"\n[model]\nrange = "0..1"\n{model}{extra}'
    assert style_of(tmp_path, toml, model=True).crop_aspect == aspect


def test_upscalers_group_by_scale_content_and_noise() -> None:
    catalog = Catalog.load([], strict=True)
    groups = {s.name: s.group for s in catalog if s.group is not None}
    assert len(groups) == 13
    keys = {(g["scale"], g["content"], g["denoise"]) for g in groups.values()}
    assert (2, "photo", 3) in keys and (3, "drawing", None) in keys
    assert catalog.get("cartoon").group is None


def test_renderer_output_size_of_unknown_and_broken_styles(tmp_path: Path) -> None:
    broken = write_bundle(
        tmp_path, "b", 'name = "b"\nkind = "onnx"\n[model]\nrange = "0..1"\n', None
    )
    (broken / "model.onnx").write_bytes(b"not a model")
    renderer = Renderer(Catalog([load_bundle(broken)]), EngineCache())
    assert renderer.output_size("b", 10, 10) is None  # cannot run here: no promise
    with pytest.raises(UnknownStyle):
        renderer.output_size("nope", 10, 10)


def test_a_tiled_model_moves_the_pipelines_bar_tile_by_tile(tmp_path: Path) -> None:
    toml = (
        'name = "t"\nkind = "onnx"\n[model]\nrange = "0..1"\nscale = 2\ntile = 64\n'
        "tile_overlap = 16\n[pipeline]\nmax_side = 400\n"
    )
    path = local_upscaler(tmp_path / "m.onnx", scale=2, layers=2)
    pipeline = build_pipeline(
        load_bundle(write_bundle(tmp_path, "t", toml, path)), EngineCache(threads=1)
    )
    seen: list[float] = []
    pipeline.run(np.zeros((300, 400, 3), np.uint8), progress=seen.append)
    tiles = len(tile_starts(300, 64, 16)) * len(tile_starts(400, 64, 16))
    assert tiles == 6 * 8 and len(seen) >= tiles  # every tile, plus the other steps
    assert seen == sorted(seen) and len(set(seen)) == len(seen) and seen[-1] == 1.0
