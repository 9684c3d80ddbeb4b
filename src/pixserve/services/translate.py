"""The synchronous use case: style one small image right now, for fast styles."""

from __future__ import annotations

import threading

from pixserve.core.errors import ImageTooLarge, InvalidRequest, QueueFull
from pixserve.core.settings import Settings
from pixserve.domain.job import Crop
from pixserve.imaging import ImageFormat, encode_image
from pixserve.services.jobs import Result, check_crop
from pixserve.services.ports import Renderer, StyleCatalog
from pixserve.services.uploads import decode_upload


class TranslateService:
    """Runs fast styles inline, a bounded number at a time so a crowd cannot starve the node."""

    def __init__(
        self,
        catalog: StyleCatalog,
        renderer: Renderer,
        settings: Settings,
        *,
        max_concurrent: int = 2,
        wait_seconds: float = 10.0,
    ) -> None:
        self.catalog = catalog
        self.renderer = renderer
        self.settings = settings
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._wait_seconds = wait_seconds

    def translate(self, data: bytes, style: str, crop: str | None = None) -> Result:
        """Return the styled image, or raise a user error with a stable code.

        Slow styles and images above ``translate_max_pixels`` are refused with a pointer to
        ``POST /v1/jobs``; when every inline slot stays busy for ``wait_seconds`` the caller
        gets ``queue_full`` rather than an unbounded wait.
        """
        info = self.catalog.get(style)
        if not info.fast:
            raise InvalidRequest(f"style {style!r} is too slow to run inline; use POST /v1/jobs")
        parsed_crop = Crop.parse(crop) if crop else None
        decoded = decode_upload(data, self.settings)
        if parsed_crop is not None:
            check_crop(parsed_crop, decoded.size)
        width, height = decoded.size
        if width * height > self.settings.translate_max_pixels:
            raise ImageTooLarge(
                f"{width}×{height} is too large to run inline "
                f"(limit {self.settings.translate_max_pixels:,} pixels); use POST /v1/jobs"
            )
        if not self._slots.acquire(timeout=self._wait_seconds):
            raise QueueFull("every inline slot is busy; try again or use POST /v1/jobs")
        try:
            pixels = self.renderer.render(style, decoded.pixels, crop=parsed_crop)
        finally:
            self._slots.release()
        fmt = ImageFormat(self.settings.result_format)
        body = encode_image(pixels, fmt, quality=self.settings.result_quality)
        return Result(data=body, content_type=fmt.content_type, extension=fmt.extension)
