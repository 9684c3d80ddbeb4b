"""Dataset preparation behind ``pixserve dataset …``: faces, sketches, teacher pairs, splits.

Each command is a function that writes a dataset in one of the layouts of
:mod:`pixserve.training.layout`, reports progress through a callback and returns a summary
(counts, skipped files and why). Nothing here imports torch.
"""

from pixserve.training.prep.destination import Destination, OutputFormat
from pixserve.training.prep.faces import crop_faces
from pixserve.training.prep.sketch import make_sketch_pairs, pencil_sketch
from pixserve.training.prep.sources import Sources, each_photo, find_sources
from pixserve.training.prep.split import split_dataset
from pixserve.training.prep.summary import (
    PrepSummary,
    Progress,
    Skipped,
    SplitSummary,
    counted,
)
from pixserve.training.prep.teacher import (
    TEACHER_RECORD,
    Teacher,
    make_teacher_pairs,
    read_teacher_record,
    style_teacher,
    write_teacher_record,
)

__all__ = [
    "TEACHER_RECORD",
    "Destination",
    "OutputFormat",
    "PrepSummary",
    "Progress",
    "Skipped",
    "Sources",
    "SplitSummary",
    "Teacher",
    "counted",
    "crop_faces",
    "each_photo",
    "find_sources",
    "make_sketch_pairs",
    "make_teacher_pairs",
    "pencil_sketch",
    "read_teacher_record",
    "split_dataset",
    "style_teacher",
    "write_teacher_record",
]
