"""Response bodies of the HTTP API, so OpenAPI at ``/docs`` describes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from pixserve.core.errors import message_for_code
from pixserve.core.i18n import DEFAULT_LANGUAGE, gettext, is_translated
from pixserve.domain.job import JobStatus
from pixserve.services.views import JobView


class ErrorDetail(BaseModel):
    code: str = Field(examples=["unsupported_image"])
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class SizeOut(BaseModel):
    width: int
    height: int


class StyleGroupOut(BaseModel):
    """Styles that are one choice among many of a kind: the page shows one card for them."""

    name: Literal["enlarge"] = Field(description="The group: `enlarge` (the upscalers).")
    scale: int = Field(examples=[2, 3, 4], description="How many times larger each side gets.")
    content: Literal["photo", "drawing"] = Field(
        description="What the model suits: photos, or drawings and anime art."
    )
    denoise: int | None = Field(
        description="JPEG noise removal level (0–3) it applies; null: none."
    )


class StyleOut(BaseModel):
    name: str
    title: str
    description: str
    kind: str
    fast: bool
    limits: dict[str, Any]
    preview: bool = Field(
        default=False, description="Whether results come with a smaller, watermarked preview."
    )
    thumbnail_url: str | None
    engine: dict[str, Any] | None = Field(
        default=None,
        description="What runs the style's model on this node: engine, precision, its PSNR "
        "against fp32, why; null for styles without a model or not loaded yet.",
    )
    input: Literal["photo", "sketch"] = Field(
        default="photo",
        description="What the style takes: a photo, or a sketch (dark lines on white).",
    )
    crop_aspect: float | None = Field(
        default=None,
        description="Width / height of the picture the style wants (1.0: square, e.g. a face "
        "model); null: any shape.",
    )
    group: StyleGroupOut | None = Field(
        default=None, description="The group of interchangeable styles this one belongs to."
    )
    output_size: SizeOut | None = Field(
        default=None,
        description="Only with ?width=&height=: the exact size of the result for a picture of "
        "that size (the photo after the crop); null without them, or when the style cannot "
        "run on this node.",
    )


class CatalogOut(BaseModel):
    styles: list[StyleOut]
    limits: dict[str, int]


class DeliveryOut(BaseModel):
    channel: str = Field(examples=["email", "webhook"])
    event: str = Field(examples=["job.succeeded"])
    status: str = Field(examples=["pending", "sent", "failed"])
    attempts: int
    last_error: str | None


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
    result_url: str | None = Field(
        description="The full-size result; a signed, expiring link for styles with a preview."
    )
    preview_url: str | None = Field(
        default=None, description="The smaller, watermarked preview, for styles that make one."
    )
    notifications: list[DeliveryOut] = Field(
        default_factory=list, description="What became of the job's e-mail and webhook calls."
    )
    webhook_secret: str | None = Field(
        default=None,
        description="Only in the answer to POST: the whsec_… secret its webhooks are signed with.",
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result_width: int | None = Field(
        default=None, description="The result's width in pixels, once succeeded."
    )
    result_height: int | None = Field(
        default=None, description="The result's height in pixels, once succeeded."
    )

    @classmethod
    def of(cls, view: JobView, lang: str = DEFAULT_LANGUAGE) -> JobOut:
        """The API body of a job view, with the URLs that lead on from it.

        A failed job's message was stored in English; in another language the reader gets
        its translation when it is a catalogue text, else the meaning of its error code.
        """
        base = f"/v1/jobs/{view.id}"
        error = None
        if view.error_code:
            message = view.error_message or message_for_code(view.error_code)
            if lang != DEFAULT_LANGUAGE and not is_translated(lang, message):
                message = message_for_code(view.error_code)
            error = ErrorDetail(code=view.error_code, message=gettext(lang, message))
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
            result_url=(view.result_link or f"{base}/result") if view.has_result else None,
            preview_url=f"{base}/preview" if view.has_preview else None,
            notifications=[
                DeliveryOut(
                    channel=d.channel,
                    event=d.event,
                    status=d.status,
                    attempts=d.attempts,
                    last_error=d.last_error,
                )
                for d in view.deliveries
            ],
            created_at=view.created_at,
            started_at=view.started_at,
            finished_at=view.finished_at,
            result_width=view.result_width,
            result_height=view.result_height,
        )


class FaceOut(BaseModel):
    x: int
    y: int
    width: int
    height: int
    score: float = Field(ge=0, le=1, description="The detector's confidence.")


class FacesOut(BaseModel):
    width: int = Field(description="Width of the upright image (EXIF orientation applied).")
    height: int = Field(description="Height of the upright image.")
    faces: list[FaceOut] = Field(
        description="Boxes in upright-image pixels, largest first; empty when none is found."
    )


class DeletedOut(BaseModel):
    id: str
    status: JobStatus
    deleted: bool


class HealthOut(BaseModel):
    status: str
    checks: dict[str, str] = {}


class RetentionOut(BaseModel):
    delete_originals: bool = Field(description="Originals are deleted when their job finishes.")
    result_ttl_hours: float = Field(description="Results are deleted this long after finishing.")
    record_ttl_hours: float = Field(description="Finished jobs' records are kept this long.")
    link_ttl_hours: float = Field(description="Signed links stop working after this long.")


class IntakeOut(BaseModel):
    """Whether new images are taken now; the page rests while not."""

    open: bool = True
    reason: Literal["paused", "budget_exhausted"] | None = Field(
        None, description="Why intake is closed: the operator paused it, or the budget is spent."
    )
    retry_after_seconds: int | None = Field(
        None, description="When a spent budget frees again; null when unknown (paused)."
    )


class BotOut(BaseModel):
    """The bot check the page must pass before submitting (issue #14)."""

    provider: Literal["turnstile"] = Field(description="Whose widget to show.")
    site_key: str = Field(description="The widget's public site key.")


class ConfigOut(BaseModel):
    email: bool = Field(description="Whether POST /v1/jobs accepts an e-mail address.")
    languages: list[str]
    retention: RetentionOut
    intake: IntakeOut = Field(
        default_factory=lambda: IntakeOut(open=True, reason=None, retry_after_seconds=None),
        description="Whether new images are taken now (the page rests while not).",
    )
    bot: BotOut | None = Field(
        None,
        description="The bot check submissions need (its token in `cf-turnstile-response`); "
        "null when bot protection is off.",
    )
