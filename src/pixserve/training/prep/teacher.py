"""``dataset pairs``: pairs made by a pixserve style as the teacher, for distillation.

A = the photo, B = what the teacher style makes of it. Any style in the catalog can teach:
classical, ONNX or imported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from pixserve.pipeline.catalog import Catalog
from pixserve.pipeline.renderer import Renderer
from pixserve.training.layout import PairKind
from pixserve.training.prep.destination import Destination, OutputFormat
from pixserve.training.prep.resize import resize, square
from pixserve.training.prep.sources import each_photo, find_sources, summarize
from pixserve.training.prep.summary import PrepSummary, Progress, counted

#: A teacher: RGB uint8 (H, W, 3) in, RGB uint8 out (any size); a PixserveError refuses.
Teacher = Callable[[np.ndarray], np.ndarray]

#: Written beside the pairs: which style taught them (``train distill`` times it).
TEACHER_RECORD = "teacher.json"


def write_teacher_record(dst: Path, style: str, size: int) -> None:
    """Say in ``dst`` that ``style`` made its pairs, at ``size`` (0: photos as they were)."""
    (dst / TEACHER_RECORD).write_text(json.dumps({"style": style, "size": size}) + "\n")


def read_teacher_record(*folders: Path) -> str:
    """The teacher style recorded in the first of ``folders`` that has a record, or ""."""
    for folder in folders:
        record = folder / TEACHER_RECORD
        if record.is_file():
            try:
                return str(json.loads(record.read_text()).get("style", ""))
            except (ValueError, AttributeError):
                return ""
    return ""


def style_teacher(
    style: str, *, style_dirs: Sequence[Path] = (), model_dir: Path | None = None
) -> Teacher:
    """The style ``style`` from the catalog (built-ins plus ``style_dirs``) as a teacher,
    its pipeline built now: raises ``UnknownStyle`` or ``BundleError`` before any work."""
    renderer = Renderer(Catalog.load(style_dirs), model_dir=model_dir)
    renderer.pipeline(style)

    def teach(pixels: np.ndarray) -> np.ndarray:
        return renderer.render(style, pixels)

    return teach


def make_teacher_pairs(
    src: Path,
    dst: Path,
    teacher: Teacher,
    *,
    size: int = 256,
    layout: PairKind | str = PairKind.ALIGNED,
    fmt: OutputFormat | str = OutputFormat.PNG,
    force: bool = False,
    progress: Progress | None = None,
) -> PrepSummary:
    """Write a (photo, teacher output) pair for every photo under ``src`` into ``dst``.

    Photos are centre-cropped to a square and resized to ``size``² (``size`` 0: kept as
    they are) before the teacher sees them. An output of another size (a face crop, an
    upscaler, a size limit) is resized back to the photo's size so the pair lines up, and the
    summary says so once. A photo the teacher refuses (e.g. no face) is skipped and listed.
    """
    if size < 0:
        raise ValueError(f"size must be 0 or more, not {size}")
    kind = PairKind(layout)
    sources = find_sources(src, exclude=dst)
    out = Destination.open(dst, fmt, force=force)
    resized: list[str] = []

    def handle(path: Path, pixels: np.ndarray) -> None:
        photo = square(pixels, size)
        taught = teacher(photo)
        h, w = photo.shape[:2]
        if taught.shape[:2] != (h, w):
            resized.append(f"{taught.shape[1]}x{taught.shape[0]} from {w}x{h}")
            taught = resize(taught, w, h)
        out.write_pair(out.name_for(path), photo, taught, kind)

    skipped = each_photo(sources, handle, progress)
    notes = []
    if resized:
        notes.append(
            f"resized {counted(len(resized), 'teacher output')} back to the photo's size"
            f" (the teacher changes the size, e.g. {resized[0]})"
        )
    return summarize(sources, dst, skipped, notes)
