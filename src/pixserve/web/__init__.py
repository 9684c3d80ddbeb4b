"""The HTTP API and the web page."""

from pixserve.web.app import create_app
from pixserve.web.context import AppContext, Lifecycle

__all__ = ["AppContext", "Lifecycle", "create_app"]
