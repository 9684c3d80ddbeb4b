"""Response bodies of the HTTP API, so OpenAPI at ``/docs`` describes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from pixserve.domain.job import JobStatus
from pixserve.services.views import JobView


class ErrorDetail(BaseModel):
    code: str = Field(examples=["unsupported_image"])
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class StyleOut(BaseModel):
    name: str
    title: str
    description: str
    kind: str
    fast: bool
    limits: dict[str, Any]
    thumbnail_url: str | None


class CatalogOut(BaseModel):
    styles: list[StyleOut]
    limits: dict[str, int]


class JobOut(BaseModel):
    id: str
    status: JobStatus
    style: str
    position: int | None = Field(
        description="Jobs ahead in the queue (0 = next); null unless queued."
    )
    eta_seconds: float | None
    progress: float = Field(ge=0, le=1)
    error: ErrorDetail | None
    status_url: str
    events_url: str
    result_url: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, view: JobView) -> JobOut:
        """The API body of a job view, with the URLs that lead on from it."""
        base = f"/v1/jobs/{view.id}"
        error = None
        if view.error_code:
            error = ErrorDetail(code=view.error_code, message=view.error_message or "")
        return cls(
            id=view.id,
            status=view.status,
            style=view.style,
            position=view.position,
            eta_seconds=view.eta_seconds,
            progress=view.progress,
            error=error,
            status_url=base,
            events_url=f"{base}/events",
            result_url=f"{base}/result" if view.has_result else None,
            created_at=view.created_at,
            started_at=view.started_at,
            finished_at=view.finished_at,
        )


class DeletedOut(BaseModel):
    id: str
    status: JobStatus
    deleted: bool


class HealthOut(BaseModel):
    status: str
    checks: dict[str, str] = {}
