"""Use cases: submit, status, cancel, delete, result, translate."""

from pixserve.services.jobs import JobService, Result, Submission, check_crop
from pixserve.services.ports import ProgressFn, Renderer, StyleCatalog, StyleInfo
from pixserve.services.translate import TranslateService
from pixserve.services.views import JobView, estimate_eta

__all__ = [
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
