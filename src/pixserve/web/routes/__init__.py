"""One router per resource."""

from pixserve.web.routes import health, jobs, styles, translate, ui

__all__ = ["health", "jobs", "styles", "translate", "ui"]
