"""Previews: the [preview] table of style.toml, and the smaller, watermarked image."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from pixserve.core.errors import BundleError
from pixserve.pipeline import load_bundle
from pixserve.pipeline.preview import PreviewSpec, make_preview

MANIFEST = """
name = "shop"
kind = "builtin"
[builtin]
operator = "pencil"
"""


def bundle(tmp_path: Path, preview: str) -> Path:
    folder = tmp_path / "shop"
    folder.mkdir(exist_ok=True)
    (folder / "style.toml").write_text(MANIFEST + preview)
    return folder


def test_no_preview_by_default(tmp_path: Path) -> None:
    assert load_bundle(bundle(tmp_path, "")).preview is None


def test_preview_table(tmp_path: Path) -> None:
    mark = np.zeros((20, 40, 4), np.uint8)
    mark[..., 3] = 255
    cv2.imwrite(str(tmp_path / "mark.png"), mark)
    folder = bundle(
        tmp_path, '[preview]\nmax_side = 300\nwatermark_image = "mark.png"\nopacity = 0.5\n'
    )
    (tmp_path / "mark.png").rename(folder / "mark.png")
    spec = load_bundle(folder).preview
    assert spec == PreviewSpec(max_side=300, watermark_image=folder / "mark.png", opacity=0.5)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("[preview]\nmax_side = 8\n", "[preview] max_side"),
        ("[preview]\nopacity = 2\n", "[preview] opacity"),
        ("[preview]\nwatermark_image = '../x.png'\n", "[preview] watermark_image"),
        ("[preview]\nsize = 3\n", "[preview] size"),
    ],
)
def test_bad_preview_tables(tmp_path: Path, table: str, key: str) -> None:
    with pytest.raises(BundleError, match=key.replace("[", r"\[").replace("]", r"\]")):
        load_bundle(bundle(tmp_path, table))


def test_preview_is_smaller_and_marked() -> None:
    image = np.full((600, 900, 3), 90, np.uint8)
    plain = make_preview(image, PreviewSpec(max_side=300, opacity=0.0))
    assert plain.shape == (200, 300, 3) and (plain == 90).all()
    marked = make_preview(image, PreviewSpec(max_side=300, watermark="SAMPLE"))
    assert marked.shape == (200, 300, 3)
    changed = (marked != 90).any(axis=2).mean()
    assert 0.02 < changed < 0.8  # text tiled over the picture, the picture still there
    small = np.full((100, 50, 3), 90, np.uint8)
    assert make_preview(small, PreviewSpec(max_side=300)).shape == (100, 50, 3)  # never enlarged


def test_image_watermark_is_blended() -> None:
    image = np.zeros((200, 200, 3), np.uint8)
    mark = np.full((10, 10, 4), 255, np.uint8)
    out = make_preview(image, PreviewSpec(max_side=200, opacity=0.5), mark)
    assert out[100, 100].tolist() == [128, 128, 128]
    assert out[5, 5].tolist() == [0, 0, 0]
