"""Figures and pictures for docs/builtin-models.md, from the styles as served.

Renders the held-out photos (never trained on) through the built-in trained styles with the
real pipelines (ONNX Runtime, as `pixserve serve` runs them), measures the distilled
student against its teacher on the same photos and the same machine in one run, and writes
the before/after grids.

    .venv/bin/python scripts/builtin_report.py HELD_OUT_DIR [--out docs/images]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pixserve.pipeline import Catalog
from pixserve.pipeline.renderer import Renderer
from pixserve.training.bench import machine
from pixserve.training.layout import list_images, read_image
from pixserve.training.metrics import Lpips, psnr, ssim

STUDENT, TEACHER, FAST_STYLE = "oil-fast", "oil", "mosaic"


def fit(rgb: np.ndarray, side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    f = side / max(h, w)
    interpolation = cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC
    return cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=interpolation)


def grid(rows: list[list[np.ndarray]], titles: list[str], tile: int) -> Image.Image:
    """Rows of images shown at ``tile`` px on the longer side, titled columns."""
    gap, header = 6, 24
    cells = [[fit(img, tile) for img in row] for row in rows]
    widths = [max(row[c].shape[1] for row in cells) for c in range(len(titles))]
    heights = [max(img.shape[0] for img in row) for row in cells]
    canvas = Image.new(
        "RGB",
        (sum(widths) + gap * (len(widths) + 1), header + sum(heights) + gap * len(heights)),
        "white",
    )
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=14)
    x = gap
    for c, title in enumerate(titles):
        draw.text((x + 2, 4), title, fill=(30, 30, 30), font=font)
        y = header
        for r, row in enumerate(cells):
            canvas.paste(Image.fromarray(row[c]), (x, y))
            y += heights[r] + gap
        x += widths[c] + gap
    return canvas


def timed(renderer: Renderer, style: str, image: np.ndarray, repeat: int = 5) -> float:
    renderer.render(style, image)  # warm caches
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        renderer.render(style, image)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("held_out", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    args = parser.parse_args()
    renderer = Renderer(Catalog.load([]))
    photos = {p.stem: read_image(p) for p in list_images(args.held_out)}
    print(f"machine: {machine()}")

    # The fast neural style on held-out photos of a person, a pet, a place and a still life.
    styled = [[fit(p, 512), renderer.render(FAST_STYLE, p)] for p in photos.values()]
    grid(styled, ["held-out photo", FAST_STYLE], 360).save(
        args.out / "builtin-mosaic.jpg", quality=80
    )

    # The distilled student against its teacher, at 1024 px on the longer side.
    lpips = Lpips.load()
    rows, figures = [], []
    for name, photo in photos.items():
        big = fit(photo, 1024)
        teacher, student = renderer.render(TEACHER, big), renderer.render(STUDENT, big)
        diff = np.clip(np.abs(teacher.astype(int) - student.astype(int)) * 4, 0, 255).astype(
            np.uint8
        )
        rows.append([big, teacher, student, diff])
        figures.append(
            (name, psnr(student, teacher), ssim(student, teacher), lpips(student, teacher))
        )
    titles = ["held-out photo", f"{TEACHER} (teacher)", f"{STUDENT} (student)", "|difference| x 4"]
    grid(rows, titles, 300).save(args.out / "builtin-oil-fast.jpg", quality=80)
    print("| photo | PSNR dB | SSIM | LPIPS |\n|---|---|---|---|")
    for name, p, s, lp in figures:
        print(f"| {name} | {p:.2f} | {s:.4f} | {lp:.4f} |")
    means = [statistics.fmean(f[i] for f in figures) for i in (1, 2, 3)]
    print(f"| mean | {means[0]:.2f} | {means[1]:.4f} | {means[2]:.4f} |")

    square = cv2.resize(photos[next(iter(photos))], (1024, 1024), interpolation=cv2.INTER_CUBIC)
    t_teacher = timed(renderer, TEACHER, square)
    t_student = timed(renderer, STUDENT, square)
    t_mosaic = timed(renderer, FAST_STYLE, square)
    print(f"\n1024×1024, median of 5, one process: {TEACHER} {t_teacher:.3f} s, "
          f"{STUDENT} {t_student:.3f} s ({t_teacher / t_student:.2f}× faster), "
          f"{FAST_STYLE} {t_mosaic:.3f} s")  # fmt: skip


if __name__ == "__main__":
    main()
