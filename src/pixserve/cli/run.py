"""``pixserve run``: style files on disk directly, no server or queue, with a progress bar."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from pixserve.cli.options import friendly_errors
from pixserve.core.errors import PixserveError
from pixserve.core.settings import get_settings
from pixserve.domain.job import Crop
from pixserve.imaging import ImageFormat, decode_image, encode_image
from pixserve.pipeline.catalog import Catalog
from pixserve.pipeline.renderer import Renderer


def output_path(
    out_dir: Path, source: Path, style: str, fmt: ImageFormat, taken: set[Path]
) -> Path:
    """``out/<stem>-<style>.<ext>``, numbered when two inputs share a stem."""
    candidate = out_dir / f"{source.stem}-{style}.{fmt.extension}"
    n = 2
    while candidate in taken:
        candidate = out_dir / f"{source.stem}-{style}-{n}.{fmt.extension}"
        n += 1
    taken.add(candidate)
    return candidate


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--style", "-s", required=True, help="Style name (see `pixserve styles`).")
@click.option(
    "--out", "-o", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path)
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jpeg", "png", "webp"]),
    default=None,
    help="Output format (default: PIXSERVE_RESULT_FORMAT, jpeg).",
)
@click.option("--quality", type=click.IntRange(1, 100), default=None)
@click.option("--crop", default=None, help="x,y,w,h in the upright image, for every input.")
@friendly_errors
def run(
    inputs: tuple[Path, ...],
    style: str,
    out_dir: Path,
    fmt: str | None,
    quality: int | None,
    crop: str | None,
) -> None:
    """Style INPUTS into OUT_DIR. A file that fails is reported and the rest go on."""
    settings = get_settings()
    catalog = Catalog.load(settings.style_dirs)
    renderer = Renderer(catalog, model_dir=settings.data_dir / "models", vgg_path=settings.vgg_path)
    renderer.pipeline(style)  # unknown_style before any work
    parsed_crop = Crop.parse(crop) if crop else None
    out_format = ImageFormat(fmt or settings.result_format)
    out_dir.mkdir(parents=True, exist_ok=True)
    taken: set[Path] = set()
    failures = 0

    with tqdm(total=len(inputs), unit="img", desc=style, dynamic_ncols=True) as bar:
        for source in inputs:

            def progress(fraction: float, name: str = source.name) -> None:
                bar.set_postfix_str(f"{name} {fraction:.0%}", refresh=True)

            try:
                decoded = decode_image(
                    source.read_bytes(),
                    max_bytes=settings.max_upload_bytes,
                    max_pixels=settings.max_pixels,
                )
                pixels = renderer.render(style, decoded.pixels, crop=parsed_crop, progress=progress)
                target = output_path(out_dir, source, style, out_format, taken)
                body = encode_image(pixels, out_format, quality=quality or settings.result_quality)
                target.write_bytes(body)
                bar.write(f"{source} → {target}")
            except PixserveError as exc:
                failures += 1
                bar.write(f"{source}: {exc.message} ({exc.code})", file=sys.stderr)
            except OSError as exc:
                failures += 1
                bar.write(f"{source}: {exc.strerror or exc}", file=sys.stderr)
            bar.update(1)

    click.echo(f"{len(inputs) - failures} of {len(inputs)} written to {out_dir}")
    if failures:
        sys.exit(1)
