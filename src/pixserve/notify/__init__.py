"""Telling people their picture is ready: signed links, e-mail, webhooks.

Imports only ``core`` and ``domain`` (and Jinja2); the services decide what to send when.
"""

from pixserve.notify.compose import JobEmail, compose
from pixserve.notify.mail import (
    Mailer,
    MailError,
    MemoryMailer,
    SmtpConfig,
    SmtpMailer,
    open_mailer,
)
from pixserve.notify.secret import load_secret
from pixserve.notify.sender import (
    HttpWebhookSender,
    MemoryWebhookSender,
    WebhookError,
    WebhookSender,
)
from pixserve.notify.signing import LinkSigner, derive_key
from pixserve.notify.targets import Target, check_target
from pixserve.notify.webhooks import job_webhook_secret, signed_headers, verify

__all__ = [
    "HttpWebhookSender",
    "JobEmail",
    "LinkSigner",
    "MailError",
    "Mailer",
    "MemoryMailer",
    "MemoryWebhookSender",
    "SmtpConfig",
    "SmtpMailer",
    "Target",
    "WebhookError",
    "WebhookSender",
    "check_target",
    "compose",
    "derive_key",
    "job_webhook_secret",
    "load_secret",
    "open_mailer",
    "signed_headers",
    "verify",
]
