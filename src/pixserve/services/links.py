"""Links to results: signed and expiring, absolute for e-mails and webhooks.

A link opens one image (``result`` or ``preview``) of one job until it expires, and never
after the result itself is deleted (``result_ttl_hours`` after the job finished). Where the
blob store can presign URLs (S3), a checked link is answered with a redirect to the bucket.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

from pixserve.core.settings import Settings
from pixserve.domain.job import Job
from pixserve.notify.signing import LinkSigner
from pixserve.storage.base import BlobStore, PresignedUrls

DEFAULT_PUBLIC_URL = "http://localhost:8000"


class ResultLinks:
    """Makes and checks the signed links of jobs' images."""

    def __init__(self, signer: LinkSigner, settings: Settings, blobs: BlobStore) -> None:
        self.signer = signer
        self.settings = settings
        self.blobs = blobs

    @property
    def public_url(self) -> str:
        """Where people reach this service (``PIXSERVE_PUBLIC_URL``), without a final '/'."""
        return (self.settings.public_url or DEFAULT_PUBLIC_URL).rstrip("/")

    @property
    def public_host(self) -> str:
        """The host name of :attr:`public_url` (for the e-mail sender's address)."""
        return urlsplit(self.public_url).hostname or "localhost"

    def ttl_seconds(self, job: Job) -> float:
        """How long a link made now may live: the link TTL, cut at the result's deletion."""
        ttl = self.settings.link_ttl_seconds
        if job.finished_at is not None:
            deleted_at = job.finished_at + timedelta(hours=self.settings.result_ttl_hours)
            ttl = min(ttl, (deleted_at - self._now()).total_seconds())
        return max(ttl, 1.0)

    def path(self, job: Job, variant: str) -> str:
        """``/v1/jobs/<id>/<variant>?expires=…&signature=…``."""
        expires, signature = self.signer.sign(job.id, variant, ttl_seconds=self.ttl_seconds(job))
        query = urlencode({"expires": expires, "signature": signature})
        return f"/v1/jobs/{job.id}/{variant}?{query}"

    def url(self, job: Job, variant: str) -> str:
        """The absolute signed link, for messages that leave the service."""
        return self.public_url + self.path(job, variant)

    def expires_at(self, job: Job) -> datetime:
        """When a link made now stops working."""
        return self._now() + timedelta(seconds=self.ttl_seconds(job))

    def _now(self) -> datetime:
        # The signer's clock, so links and their expiry agree (and tests can move both).
        return datetime.fromtimestamp(self.signer.now(), UTC)

    def verify(self, job_id: str, variant: str, expires: str | None, signature: str | None) -> None:
        """Raise ``LinkError`` (tampered) or ``LinkExpired`` unless the link is good."""
        self.signer.verify(job_id, variant, expires or "", signature or "")

    def direct_url(
        self, key: str, *, filename: str, content_type: str, expires_in: int = 300
    ) -> str | None:
        """A presigned URL of the blob when the store can make one (S3), else None."""
        if not isinstance(self.blobs, PresignedUrls):
            return None
        return self.blobs.presigned_get_url(
            key, expires_in=expires_in, filename=filename, content_type=content_type
        )
