"""Cumulative job metrics per style (what ``/metrics`` shows of finished jobs): the names,
the histogram buckets, and the values a job store reads back (``queue/job_metrics.py``
keeps them in the job database)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

QUEUE_WAIT = "queue_wait_seconds"
RUN_TIME = "run_seconds"
ERRORS = "errors"
INF = "+Inf"

#: Bucket upper bounds, in seconds (a queue may wait for hours on a viral day).
QUEUE_WAIT_BUCKETS: tuple[float, ...] = (
    0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
)  # fmt: skip
#: Bucket upper bounds, in seconds (fast ONNX styles to neural-style optimisation).
RUN_TIME_BUCKETS: tuple[float, ...] = (
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
)  # fmt: skip
HISTOGRAMS: Mapping[str, tuple[float, ...]] = {
    QUEUE_WAIT: QUEUE_WAIT_BUCKETS,
    RUN_TIME: RUN_TIME_BUCKETS,
}


def le_label(bound: float) -> str:
    """A bucket's ``le`` as written in the table and in ``/metrics``."""
    return INF if math.isinf(bound) else repr(float(bound))


@dataclass(frozen=True)
class Histogram:
    """One style's histogram: cumulative counts per ``le`` label (``+Inf`` last), and sum."""

    buckets: tuple[tuple[str, int], ...]
    sum: float

    @property
    def count(self) -> int:
        return self.buckets[-1][1] if self.buckets else 0


@dataclass(frozen=True)
class JobMetrics:
    """What ``job_metrics`` holds: per style, the two histograms and errors per code."""

    #: (style, histogram name) → histogram.
    histograms: Mapping[tuple[str, str], Histogram]
    #: (style, error code) → failed attempts.
    errors: Mapping[tuple[str, str], int]
