"""``/healthz`` (the process is up), ``/readyz`` (it can do work), ``/metrics`` (Prometheus)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse

from pixserve.core.errors import PixserveError
from pixserve.domain.job import JobStatus
from pixserve.domain.metrics import QUEUE_WAIT, RUN_TIME, JobMetrics
from pixserve.web.context import AppContext, get_context
from pixserve.web.schemas import HealthOut

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/healthz", response_model=HealthOut)
def healthz() -> HealthOut:
    """Liveness: answers as long as the process serves HTTP."""
    return HealthOut(status="ok")


@router.get("/readyz", response_model=HealthOut, responses={503: {"model": HealthOut}})
def readyz(ctx: AppContext = Depends(get_context)) -> JSONResponse:
    """Readiness: the database and storage answer and the models are warm (503 otherwise)."""
    results: dict[str, str] = {}
    ready = True
    for name, check in ctx.checks.items():
        try:
            check()
            results[name] = "ok"
        except PixserveError as exc:
            results[name], ready = exc.message, False
        except Exception as exc:  # a probe must answer, whatever broke
            log.warning("readiness check %s failed: %r", name, exc)
            results[name], ready = "failed", False
    body = HealthOut(status="ok" if ready else "not_ready", checks=results)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(ctx: AppContext = Depends(get_context)) -> PlainTextResponse:
    """Jobs per style and status, queue wait and run time histograms and errors per style
    (read from the job database, so every web process answers the same whichever process
    ran the jobs), in the Prometheus text format."""
    counts = ctx.jobs.jobs.counts()
    styles = sorted({style for style, _ in counts} | {s.name for s in ctx.catalog})
    lines = [
        "# HELP pixserve_jobs Jobs in the store by style and status.",
        "# TYPE pixserve_jobs gauge",
    ]
    for style in styles:
        for status in JobStatus:
            value = counts.get((style, status), 0)
            lines.append(f'pixserve_jobs{{style="{style}",status="{status.value}"}} {value}')
    lines += [
        "# HELP pixserve_queue_depth Queued jobs by style.",
        "# TYPE pixserve_queue_depth gauge",
    ]
    for style in styles:
        value = counts.get((style, JobStatus.QUEUED), 0)
        lines.append(f'pixserve_queue_depth{{style="{style}"}} {value}')
    engines = ctx.engine_info()
    lines += [
        "# HELP pixserve_style_engine The engine and precision each style's model runs on.",
        "# TYPE pixserve_style_engine gauge",
    ]
    for style, engine in sorted(engines.items()):
        labels = f'style="{style}",engine="{engine["engine"]}",precision="{engine["precision"]}"'
        lines.append(f"pixserve_style_engine{{{labels}}} 1")
    lines += job_metric_lines(ctx.jobs.jobs.job_metrics(), engines)
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")


_HISTOGRAMS = {
    QUEUE_WAIT: (
        "pixserve_job_queue_wait_seconds",
        "Seconds a job waited in the queue before its (last) attempt started, by style.",
    ),
    RUN_TIME: (
        "pixserve_job_run_seconds",
        "Seconds a successful job ran (started to finished), by style.",
    ),
}


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def job_metric_lines(metrics: JobMetrics, engines: Mapping[str, Mapping[str, object]]) -> list[str]:
    """The ``job_metrics`` histograms and error counters as Prometheus text lines; each
    series is labelled with its style and the engine this process runs it on (empty when
    it does not know the style)."""

    def labels(style: str) -> str:
        engine = str(engines.get(style, {}).get("engine", ""))
        return f'style="{_label(style)}",engine="{_label(engine)}"'

    lines: list[str] = []
    for key, (name, text) in _HISTOGRAMS.items():
        lines += [f"# HELP {name} {text}", f"# TYPE {name} histogram"]
        for (style, which), hist in sorted(metrics.histograms.items()):
            if which != key:
                continue
            for le, count in hist.buckets:
                lines.append(f'{name}_bucket{{{labels(style)},le="{le}"}} {count}')
            lines.append(f"{name}_sum{{{labels(style)}}} {hist.sum!r}")
            lines.append(f"{name}_count{{{labels(style)}}} {hist.count}")
    name = "pixserve_job_errors_total"
    lines += [
        f"# HELP {name} Failed job attempts by style and error code.",
        f"# TYPE {name} counter",
    ]
    for (style, code), count in sorted(metrics.errors.items()):
        lines.append(f'{name}{{{labels(style)},code="{_label(code)}"}} {count}')
    return lines
