"""The exceptions pixserve raises, one tree with one root.

Every error a user can cause carries a stable ``code`` that the API returns and the UI
translates, and the HTTP status it maps to. A subclass's docstring is its default message.

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
    ├── NotFound                       not_found           404
    │   ├── UnknownStyle               unknown_style       404
    │   ├── JobNotFound                job_not_found       404
    │   └── ResultNotReady             result_not_ready    409
    ├── LinkError                      link_invalid        403
    │   ├── LinkRequired               link_required       403
    │   ├── LinkExpired                link_expired        410
    │   └── ResultExpired              result_expired      410
    ├── QueueFull                      queue_full          503
    ├── Unavailable                    unavailable         503
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

from typing import ClassVar


class PixserveError(Exception):
    """Something went wrong inside pixserve."""

    code: ClassVar[str] = "internal_error"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str | None = None) -> None:
        self.message = message or (self.__doc__ or self.code).strip().splitlines()[0]
        super().__init__(self.message)

    def to_dict(self) -> dict[str, str]:
        """The JSON body the API returns for this error (inside ``{"error": ...}``)."""
        return {"code": self.code, "message": self.message}


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


class ImageTooLarge(ImageError):
    """The image is too large."""

    code = "image_too_large"
    http_status = 413


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


class QueueFull(PixserveError):
    """The queue is full; please try again in a few minutes."""

    code = "queue_full"
    http_status = 503


class Unavailable(PixserveError):
    """The service is temporarily unavailable; please try again shortly."""

    code = "unavailable"
    http_status = 503


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
