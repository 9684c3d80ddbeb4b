"""``pixserve dataset …``: prepare training data (face crops, sketch pairs, teacher pairs, splits).

The work is in :mod:`pixserve.training.prep`; this module turns options into calls, shows a
progress bar on stderr and prints the summary. Nothing here imports torch.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from tqdm import tqdm

from pixserve.cli.options import friendly_errors
from pixserve.core.settings import get_settings
from pixserve.training.layout import PairKind
from pixserve.training.prep import (
    OutputFormat,
    PrepSummary,
    Progress,
    SplitSummary,
    counted,
    crop_faces,
    make_sketch_pairs,
    make_teacher_pairs,
    split_dataset,
    style_teacher,
    write_teacher_record,
)

F = TypeVar("F", bound=Callable[..., Any])

#: Skipped files listed by name in a summary; the rest are counted.
SHOWN_SKIPPED = 20

_PATH = click.Path(path_type=Path)


def _writing_options(func: F) -> F:
    """``--format`` and ``--force``, shared by the commands that write a new dataset."""
    func = click.option(
        "--force",
        is_flag=True,
        help="Write into a DST that is not empty, deleting the images already in it"
        " (and in its A/ and B/) first.",
    )(func)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice([f.value for f in OutputFormat]),
        default=OutputFormat.PNG.value,
        show_default=True,
        help="png is lossless; jpeg is written at quality 95.",
    )(func)


def _layout_option(func: F) -> F:
    return click.option(
        "--layout",
        type=click.Choice([k.value for k in PairKind]),
        default=PairKind.ALIGNED.value,
        show_default=True,
        help="aligned: one A|B image per pair; folders: DST/A/NAME and DST/B/NAME.",
    )(func)


def _pair_size_option(func: F) -> F:
    return click.option(
        "--size",
        type=click.IntRange(0, 8192),
        default=256,
        show_default=True,
        help="Photos are centre-cropped to a square and resized to SIZE x SIZE;"
        " 0 keeps them as they are.",
    )(func)


@click.group()
def dataset() -> None:
    """Prepare training data: face crops, sketch pairs, teacher pairs, train/val splits.

    SRC folders are read recursively (hidden files and folders are left out); output files
    are named after their source files. The layouts are shown in `pixserve dataset split
    --help`.
    """


@dataset.command()
@click.argument("src", type=_PATH)
@click.argument("dst", type=_PATH)
@click.option("--size", type=click.IntRange(8, 8192), default=256, show_default=True)
@click.option(
    "--margin",
    type=click.FloatRange(0, 4),
    default=0.3,
    show_default=True,
    help="Space around the face on each side, as a fraction of the face's size.",
)
@click.option(
    "--detector",
    type=click.Choice(["auto", "yuface", "haar"]),
    default="auto",
    show_default=True,
    help="auto: yuface when installed (finds eyes), else OpenCV's Haar cascade.",
)
@click.option(
    "--align/--no-align",
    default=True,
    show_default=True,
    help="Turn each face so the eyes are level (needs a detector that finds eyes: yuface).",
)
@_writing_options
@friendly_errors
def faces(
    src: Path,
    dst: Path,
    size: int,
    margin: float,
    detector: str,
    align: bool,
    fmt: str,
    force: bool,
) -> None:
    """Crop the largest face of every photo under SRC (and its subfolders) into DST.

    The crop is a square around the face plus MARGIN on each side, found by the same
    detector as the styles' face step, resized to SIZE x SIZE. Photos without a face,
    and files that are not images, are skipped and listed.
    """
    try:
        with _progress_bar("faces") as progress:
            summary = crop_faces(
                src,
                dst,
                size=size,
                margin=margin,
                detector=detector,
                align=align,
                fmt=fmt,
                force=force,
                progress=progress,
            )
    except ImportError:
        click.secho(
            "error: yuface is not installed (pip install 'pixserve[faces]'); use --detector haar",
            fg="red",
            err=True,
        )
        sys.exit(1)
    _report(summary, "face crop")


@dataset.command()
@click.argument("src", type=_PATH)
@click.argument("dst", type=_PATH)
@_pair_size_option
@_layout_option
@_writing_options
@friendly_errors
def sketch(src: Path, dst: Path, size: int, layout: str, fmt: str, force: bool) -> None:
    """Make (pencil sketch, photo) pairs from every photo under SRC (and its subfolders).

    A is the sketch (grey, inverted, blurred, colour-dodged: the sketch-to-face recipe), B
    the photo, so a pix2pix model trained AtoB draws photos from sketches.
    """
    with _progress_bar("sketch") as progress:
        summary = make_sketch_pairs(
            src, dst, size=size, layout=layout, fmt=fmt, force=force, progress=progress
        )
    _report(summary, "pair")


@dataset.command()
@click.argument("src", type=_PATH)
@click.argument("dst", type=_PATH)
@click.option(
    "--teacher",
    required=True,
    metavar="STYLE",
    help="The style that makes B from each photo (see `pixserve styles`).",
)
@_pair_size_option
@_layout_option
@_writing_options
@friendly_errors
def pairs(
    src: Path, dst: Path, teacher: str, size: int, layout: str, fmt: str, force: bool
) -> None:
    """Make (photo, STYLE's output) pairs from every photo under SRC (and its subfolders).

    Any style can teach (classical, ONNX, imported), e.g. to distil a slow model into a
    small one. An output of another size than its photo is resized back to it. Photos the
    teacher refuses (e.g. no face) are skipped and listed.
    """
    settings = get_settings()
    teach = style_teacher(
        teacher, style_dirs=settings.style_dirs, model_dir=settings.data_dir / "models"
    )
    with _progress_bar(teacher) as progress:
        summary = make_teacher_pairs(
            src, dst, teach, size=size, layout=layout, fmt=fmt, force=force, progress=progress
        )
    write_teacher_record(dst, teacher, size)  # `train distill` times it against its student
    _report(summary, "pair")


@dataset.command()
@click.argument("folder", metavar="DIR", type=_PATH)
@click.option("--val", type=click.FloatRange(0, 1, max_open=True), default=0.2, show_default=True)
@click.option("--test", type=click.FloatRange(0, 1, max_open=True), default=0.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@friendly_errors
def split(folder: Path, val: float, test: float, seed: int) -> None:
    """Split the dataset in DIR into train/val(/test) by moving its files.

    \b
    DIR/*.png             → DIR/train/, DIR/val/ (aligned pairs or single images)
    DIR/A/ + DIR/B/       → DIR/train/A, DIR/train/B, DIR/val/A, … (pairs kept together)
    DIR/trainA/ + trainB/ → a share of each moved to DIR/valA/, DIR/valB/

    The same files and seed give the same split on any machine. A DIR that is split
    already is refused.
    """
    if val + test >= 1:
        raise click.BadParameter("--val and --test must leave something to train on")
    with _progress_bar("split", unit="file") as progress:
        summary = split_dataset(folder, val=val, test=test, seed=seed, progress=progress)
    _report_split(summary)


class _Bar:
    """A tqdm bar on stderr, made when the work first says how much there is."""

    def __init__(self, desc: str, unit: str) -> None:
        self.desc, self.unit = desc, unit
        self.bar: tqdm[Any] | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = tqdm(
                total=total, desc=self.desc, unit=self.unit, dynamic_ncols=True, file=sys.stderr
            )
        self.bar.update(done - self.bar.n)


@contextmanager
def _progress_bar(desc: str, unit: str = "img") -> Iterator[Progress]:
    """A progress callback drawing a bar on stderr, closed when the block ends."""
    bar = _Bar(desc, unit)
    try:
        yield bar
    finally:
        if bar.bar is not None:
            bar.bar.close()


def _report(summary: PrepSummary, what: str) -> None:
    made, seen = counted(summary.written, what), counted(summary.seen, "photo")
    click.echo(f"{made} of {seen} written to {summary.dst}")
    if summary.skipped:
        click.echo(f"skipped {len(summary.skipped)}:")
        for item in summary.skipped[:SHOWN_SKIPPED]:
            click.echo(f"  {item.path}: {item.reason}")
        if len(summary.skipped) > SHOWN_SKIPPED:
            click.echo(f"  … and {len(summary.skipped) - SHOWN_SKIPPED} more")
    for note in summary.notes:
        click.echo(f"note: {note}")
    if summary.written == 0:
        click.secho("error: nothing was written", fg="red", err=True)
        sys.exit(1)


def _report_split(summary: SplitSummary) -> None:
    counts = ", ".join(f"{name} {count}" for name, count in summary.counts.items())
    click.echo(f"split {summary.layout} in {summary.folder}: {counts}")
    for note in summary.notes:
        click.echo(f"note: {note}")
