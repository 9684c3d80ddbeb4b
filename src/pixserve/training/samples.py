"""Sample grids: one row per fixed validation image, one column per stage (input | output |
target), with the column titles on top, saved as ``samples/epoch_NNN.png``."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pixserve.training.run import write_atomic
from pixserve.training.trainer import SampleGrid

GAP = 4
HEADER = 22
BACKGROUND = (255, 255, 255)


def grid_image(grid: SampleGrid, caption: str = "") -> Image.Image:
    """The grid as a Pillow image; tiles are shown at their own size (at least 96 px)."""
    k, _, h, w = grid.columns[0].shape
    scale = max(1, -(-96 // max(h, w)))  # tiny test images are enlarged to stay visible
    th, tw = h * scale, w * scale
    width = len(grid.columns) * (tw + GAP) + GAP
    height = HEADER + k * (th + GAP) + GAP + (HEADER if caption else 0)
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=13)
    for c, (title, column) in enumerate(zip(grid.titles, grid.columns, strict=True)):
        x = GAP + c * (tw + GAP)
        draw.text((x + 2, 4), title, fill=(30, 30, 30), font=font)
        pixels = (column.clamp(0, 1).permute(0, 2, 3, 1).numpy() * 255 + 0.5).astype(np.uint8)
        for r in range(k):
            tile = Image.fromarray(pixels[r])
            if scale > 1:
                tile = tile.resize((tw, th), Image.Resampling.NEAREST)
            canvas.paste(tile, (x, HEADER + r * (th + GAP)))
    if caption:
        draw.text((GAP + 2, height - HEADER + 4), caption, fill=(90, 90, 90), font=font)
    return canvas


def save_grid(grid: SampleGrid, path: Path, caption: str = "") -> None:
    """Write :func:`grid_image` to ``path`` as PNG (atomically)."""
    buf = io.BytesIO()
    grid_image(grid, caption).save(buf, format="PNG", optimize=True)
    write_atomic(path, buf.getvalue())
