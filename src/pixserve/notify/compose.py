"""Writing the e-mail about a finished job: text and HTML from the package's Jinja2 templates.

The message is ``multipart/alternative`` (plain text, then HTML); the HTML part carries the
preview image inline (``multipart/related``, ``cid:``) and links to the signed preview and
full-size result, so it shows the picture even in mail clients that block remote images.
Every sentence comes from the message catalogue in the job's language, the reason a job
failed included (translated from its error code).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pixserve.core.errors import message_for_code
from pixserve.core.i18n import gettext


@dataclass(frozen=True)
class JobEmail:
    """Everything one message says; the caller has signed the links."""

    to: str
    sender: str
    lang: str
    succeeded: bool
    style_title: str
    site_url: str
    privacy_url: str
    result_url: str | None = None
    preview_url: str | None = None
    expires_at: datetime | None = None
    error_code: str | None = None
    preview: bytes | None = None
    preview_type: str = "image/jpeg"


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("pixserve.notify", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_bodies(email: JobEmail, *, preview_cid: str | None = None) -> tuple[str, str]:
    """The plain-text and HTML bodies of ``email``."""
    env = _environment()

    def translate(msgid: str, **values: Any) -> str:
        return gettext(email.lang, msgid, **values)

    expires = email.expires_at.strftime("%Y-%m-%d %H:%M") if email.expires_at else ""
    reason = translate(message_for_code(email.error_code)) if email.error_code else ""
    context = {
        "e": email,
        "_": translate,
        "expires": expires,
        "reason": reason,
        "preview_cid": preview_cid,
    }
    plain = env.get_template("job_email.txt").render(context)
    html = env.get_template("job_email.html").render(context)
    return plain, html


def compose(email: JobEmail) -> EmailMessage:
    """The finished message, ready for a :class:`~pixserve.notify.mail.Mailer`."""
    message = EmailMessage()
    if email.succeeded:
        subject = gettext(email.lang, "Your {style} picture is ready", style=email.style_title)
    else:
        subject = gettext(
            email.lang, "We could not finish your {style} picture", style=email.style_title
        )
    message["Subject"] = subject
    message["From"] = email.sender
    message["To"] = email.to
    message["Date"] = formatdate(localtime=False)
    domain = email.sender.rpartition("@")[2].strip(">") or None
    message["Message-ID"] = make_msgid("pixserve", domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    cid = make_msgid("preview", domain=domain) if email.preview else None
    plain, html = render_bodies(email, preview_cid=cid[1:-1] if cid else None)
    message.set_content(plain)
    message.add_alternative(html, subtype="html")
    if email.preview and cid:
        maintype, _, subtype = email.preview_type.partition("/")
        html_part = message.get_body(preferencelist=("html",))
        assert isinstance(html_part, EmailMessage)
        html_part.add_related(email.preview, maintype=maintype, subtype=subtype, cid=cid)
    # After the body: setting content replaces every Content-* header of the message.
    message["Content-Language"] = email.lang
    return message
