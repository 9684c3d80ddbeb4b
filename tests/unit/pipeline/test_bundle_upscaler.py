"""``kind = "upscaler"`` bundles and the ``upscale`` post step, as the loader checks them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixserve.core.errors import BundleError
from pixserve.pipeline import Kind, load_bundle
from tests.unit.pipeline.bundles import builtin_toml, write_bundle


def test_upscaler_bundle(tmp_path: Path) -> None:
    toml = 'name = "big"\nkind = "upscaler"\n[upscaler]\nmodel = "waifu2x-anime-2x-noise2"\n'
    style = load_bundle(write_bundle(tmp_path, "big", toml))
    assert style.kind is Kind.UPSCALER and style.model is None
    assert style.upscaler is not None and style.upscaler.model == "waifu2x-anime-2x-noise2"
    assert (style.upscaler.tile, style.upscaler.tile_overlap) == (256, 16)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('name = "u"\nkind = "upscaler"\n', r"\[upscaler\]"),
        ('name = "u"\nkind = "upscaler"\n[upscaler]\nmodel = "esrgan-9x"\n', "unknown upscaler"),
        (
            'name = "u"\nkind = "upscaler"\n[upscaler]\nmodel = "waifu2x-anime-2x"\ntile = 64\n'
            "tile_overlap = 40\n",
            "tile_overlap",
        ),
        (builtin_toml("u") + '[upscaler]\nmodel = "waifu2x-anime-2x"\n', r"\[upscaler\]"),
        (
            builtin_toml("u") + '[pipeline]\npost = [{ step = "upscale", model = "nope" }]\n',
            "unknown upscaler 'nope'",
        ),
    ],
)
def test_bad_upscaler_bundles(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(BundleError, match=message):
        load_bundle(write_bundle(tmp_path, "u", toml))
