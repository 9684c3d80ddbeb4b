"""Use cases: submit, status, cancel, delete, result, translate, find faces."""

from pixserve.services.eta import estimate_eta
from pixserve.services.faces import FaceBox, FaceService, FacesFound
from pixserve.services.jobs import JobService, Result, Submission, check_crop
from pixserve.services.ports import (
    FaceDetector,
    ProgressFn,
    Renderer,
    StyleCatalog,
    StyleInfo,
)
from pixserve.services.translate import TranslateService
from pixserve.services.views import JobView

__all__ = [
    "FaceBox",
    "FaceDetector",
    "FaceService",
    "FacesFound",
    "JobService",
    "JobView",
    "ProgressFn",
    "Renderer",
    "Result",
    "StyleCatalog",
    "StyleInfo",
    "Submission",
    "TranslateService",
    "check_crop",
    "estimate_eta",
]
