"""The exceptions pixserve raises, one tree with one root.

Every error a user can cause carries a stable ``code`` that the API returns and the UI
translates, and the HTTP status it maps to. A subclass's docstring is its default message.

Messages are English msgids of the message catalogue (:mod:`pixserve.core.i18n`). A message
that carries values is a template marked for the catalogue, its values given apart, so the
API can write it in the reader's language::

    raise InvalidCrop(N_("The crop must be four integers x,y,w,h, not “{crop}”."), crop=text)

A message left unmarked (meant for operators) is written as it is in English; in another
language the reader gets the default message of the error's class instead.

    PixserveError                      internal_error      500
    ├── InvalidRequest                 invalid_request     422
    │   ├── InvalidCrop                invalid_crop        422
    │   ├── InvalidStyleParameter      invalid_parameter   422
    │   ├── InvalidEmail               invalid_email       422
    │   ├── EmailUnavailable           email_unavailable   422
    │   └── WebhookRefused             webhook_refused     422
    ├── ImageError                     invalid_image       422
    │   ├── UnsupportedImage           unsupported_image   415
    │   ├── CorruptImage               corrupt_image       422
    │   ├── ImageTooLarge              image_too_large     413
    │   └── NoFaceFound                no_face_found       422
    ├── RequestTimeout                 request_timeout     408
    ├── NotFound                       not_found           404
    │   ├── UnknownStyle               unknown_style       404
    │   ├── JobNotFound                job_not_found       404
    │   └── ResultNotReady             result_not_ready    409
    ├── LinkError                      link_invalid        403
    │   ├── LinkRequired               link_required       403
    │   ├── LinkExpired                link_expired        410
    │   └── ResultExpired              result_expired      410
    ├── BotCheckFailed                 bot_check_failed    403
    ├── Unavailable                    unavailable         503
    ├── IntakeClosed                   intake_closed       503
    │   ├── RateLimited                rate_limited        429
    │   ├── IntakePaused               paused              503
    │   ├── BudgetExhausted            budget_exhausted    503
    │   └── QueueFull                  queue_full          503
    │       └── StyleQueueFull         queue_full          503
    ├── InvalidSettings                invalid_settings    500
    ├── AdminUnauthorized              unauthorized        401
    ├── IllegalTransition              illegal_transition  409
    ├── BundleError                    invalid_bundle      500
    ├── ModelError                     model_error         500
    ├── CheckpointError                invalid_checkpoint  422
    │   ├── UnknownArchitecture        unknown_architecture 422
    │   ├── CheckpointMismatch         checkpoint_mismatch 422
    │   └── ExportMismatch             export_mismatch     422
    ├── DatasetError                   invalid_dataset     422
    └── BlobNotFound                   blob_not_found      404
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

from pixserve.core.i18n import DEFAULT_LANGUAGE, N_, gettext, is_translated


class PixserveError(Exception):
    """Something went wrong on our side."""

    code: ClassVar[str] = "internal_error"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str | None = None, **values: Any) -> None:
        self.template = message or self.default_message()
        self.values = values
        self.message = gettext(DEFAULT_LANGUAGE, self.template, **values)
        super().__init__(self.message)

    @classmethod
    def default_message(cls) -> str:
        """The first line of the class's docstring: what this kind of error means."""
        return (cls.__doc__ or cls.code).strip().splitlines()[0]

    def message_in(self, lang: str) -> str:
        """The message in ``lang``: this error's own if translated, else its class's default."""
        if lang == DEFAULT_LANGUAGE or is_translated(lang, self.template):
            return gettext(lang, self.template, **self.values)
        return gettext(lang, self.default_message())

    def to_dict(self, lang: str = DEFAULT_LANGUAGE) -> dict[str, str]:
        """The JSON body the API returns for this error (inside ``{"error": ...}``)."""
        return {"code": self.code, "message": self.message_in(lang)}


class InvalidRequest(PixserveError):
    """The request is not valid."""

    code = "invalid_request"
    http_status = 422


class InvalidCrop(InvalidRequest):
    """The crop must be four integers x,y,w,h inside the (upright) image."""

    code = "invalid_crop"


class InvalidStyleParameter(InvalidRequest):
    """A style parameter is not valid."""

    code = "invalid_parameter"


class InvalidEmail(InvalidRequest):
    """This is not an e-mail address."""

    code = "invalid_email"


class EmailUnavailable(InvalidRequest):
    """This service does not send e-mail; leave the address out."""

    code = "email_unavailable"


class WebhookRefused(InvalidRequest):
    """The webhook URL is not allowed (it must be a public http(s) address)."""

    code = "webhook_refused"


class ImageError(PixserveError):
    """The image cannot be used."""

    code = "invalid_image"
    http_status = 422


class UnsupportedImage(ImageError):
    """This file is not an image pixserve can read (JPEG, PNG, WebP, AVIF, GIF, BMP, TIFF)."""

    code = "unsupported_image"
    http_status = 415


class CorruptImage(ImageError):
    """The image is damaged or incomplete and cannot be decoded."""

    code = "corrupt_image"


class RequestTimeout(PixserveError):
    """The upload took too long to arrive; try again, or send a smaller photo."""

    code = "request_timeout"
    http_status = 408

    @classmethod
    def after(cls, seconds: int) -> RequestTimeout:
        """The body was still arriving after ``seconds``."""
        return cls(
            N_(
                "The upload did not arrive within {seconds} seconds; "
                "try again or send a smaller photo."
            ),
            seconds=seconds,
        )


class ImageTooLarge(ImageError):
    """The image is too large."""

    code = "image_too_large"
    http_status = 413

    @classmethod
    def over_bytes(cls, max_bytes: int) -> ImageTooLarge:
        """The file is bigger than ``max_bytes``."""
        limit = round(max_bytes / 2**20, 1)
        return cls(N_("The file is larger than the {limit} MB limit."), limit=limit)

    @classmethod
    def over_pixels(cls, width: int, height: int, max_pixels: int) -> ImageTooLarge:
        """The image has more than ``max_pixels`` pixels."""
        return cls(
            N_(
                "The image is {width}×{height} pixels ({megapixels} megapixels); "
                "the limit is {limit} megapixels."
            ),
            width=width,
            height=height,
            megapixels=round(width * height / 1e6, 1),
            limit=round(max_pixels / 1e6, 1),
        )


class NoFaceFound(ImageError):
    """No face was found in the image; this style needs one."""

    code = "no_face_found"


class NotFound(PixserveError):
    """Not found."""

    code = "not_found"
    http_status = 404


class UnknownStyle(NotFound):
    """There is no style with this name."""

    code = "unknown_style"


class JobNotFound(NotFound):
    """There is no job with this id (it may have been deleted)."""

    code = "job_not_found"


class ResultNotReady(NotFound):
    """The job has no result yet."""

    code = "result_not_ready"
    http_status = 409


class LinkError(PixserveError):
    """This link is not valid; it may have been changed or cut short."""

    code = "link_invalid"
    http_status = 403


class LinkRequired(LinkError):
    """The full-size result is only available through the link we sent."""

    code = "link_required"


class LinkExpired(LinkError):
    """This link has expired."""

    code = "link_expired"
    http_status = 410


class ResultExpired(LinkError):
    """This result has been deleted, as promised when it was made."""

    code = "result_expired"
    http_status = 410


class BotCheckFailed(PixserveError):
    """We could not confirm that a person sent this; please complete the check and try again.

    The bot protection's challenge (web/bots.py) was missing, wrong, expired or used twice.
    """

    code = "bot_check_failed"
    http_status = 403


class Unavailable(PixserveError):
    """The service is temporarily unavailable; please try again shortly."""

    code = "unavailable"
    http_status = 503


class IntakeClosed(PixserveError):
    """New images are not being accepted right now; please come back later.

    Raised before a job is made (rate limit, pause, budget, a full style queue);
    ``retry_after`` is the seconds a client should wait (the ``Retry-After`` header).
    """

    code = "intake_closed"
    http_status = 503

    def __init__(self, message: str | None = None, *, retry_after: int = 60, **values: Any) -> None:
        super().__init__(message, **values)
        self.retry_after = max(1, int(retry_after))


class RateLimited(IntakeClosed):
    """Too many images from your address; please wait a little and try again."""

    code = "rate_limited"
    http_status = 429


class IntakePaused(IntakeClosed):
    """We are resting for a while and not taking new images; please come back later."""

    code = "paused"


class BudgetExhausted(IntakeClosed):
    """We have made all the images we can for now; please come back later."""

    code = "budget_exhausted"


class QueueFull(IntakeClosed):
    """The queue is full; please try again in a few minutes."""

    code = "queue_full"


class StyleQueueFull(QueueFull):
    """The queue for this style is full; please try again in a few minutes."""


class InvalidSettings(PixserveError):
    """The server's settings are not valid."""

    code = "invalid_settings"
    http_status = 500


class AdminUnauthorized(PixserveError):
    """The operator token is missing or wrong."""

    code = "unauthorized"
    http_status = 401


class IllegalTransition(PixserveError):
    """This job cannot change to that status."""

    code = "illegal_transition"
    http_status = 409


class BundleError(PixserveError):
    """A style bundle is invalid."""

    code = "invalid_bundle"


class ModelError(PixserveError):
    """The model failed to run."""

    code = "model_error"


class CheckpointError(PixserveError):
    """This file is not a checkpoint pixserve can read."""

    code = "invalid_checkpoint"
    http_status = 422


class UnknownArchitecture(CheckpointError):
    """This architecture is not one pixserve knows, or the file does not say which it is."""

    code = "unknown_architecture"


class CheckpointMismatch(CheckpointError):
    """The checkpoint's keys or shapes do not match the architecture."""

    code = "checkpoint_mismatch"


class ExportMismatch(CheckpointError):
    """The exported ONNX model does not reproduce the PyTorch model within tolerance."""

    code = "export_mismatch"


class DatasetError(PixserveError):
    """This folder is not a dataset pixserve can read."""

    code = "invalid_dataset"
    http_status = 422


class BlobNotFound(PixserveError):
    """The stored image is gone."""

    code = "blob_not_found"
    http_status = 404


#: Codes a job can fail with that are not an exception's (the queue records them itself).
_OTHER_CODES = {
    # A worker's lease ran out on every try (it crashed, was killed, or ran out of memory).
    "lease_expired": N_("We tried to make this picture several times and every try was cut short."),
}


@functools.cache
def _messages_by_code() -> dict[str, str]:
    found: dict[str, str] = dict(_OTHER_CODES)
    stack: list[type[PixserveError]] = [PixserveError]
    while stack:
        cls = stack.pop()
        found.setdefault(cls.code, cls.default_message())
        stack.extend(cls.__subclasses__())
    return found


def message_for_code(code: str | None) -> str:
    """The English default message (a msgid) of the error ``code``; the generic one if unknown.

    For texts written after the error itself is gone, such as a failed job's e-mail.
    """
    return _messages_by_code().get(code or "", PixserveError.default_message())
