"""``SmtpMailer`` against a real SMTP server (aiosmtpd in this process), with AUTH."""

from __future__ import annotations

import pytest

from pixserve.notify.compose import JobEmail, compose
from pixserve.notify.mail import MailError, SmtpConfig, SmtpMailer
from tests.support.smtp import smtp_sink

pytestmark = pytest.mark.integration


def message():  # type: ignore[no-untyped-def]
    return compose(
        JobEmail(
            to="ana@example.org",
            sender="pixserve <noreply@pix.example>",
            lang="en",
            succeeded=True,
            style_title="Pencil",
            site_url="https://pix.example/",
            privacy_url="https://pix.example/privacy",
            result_url="https://pix.example/v1/jobs/j/result?expires=1&signature=s",
        )
    )


def test_sends_with_login_and_the_server_gets_the_message() -> None:
    with smtp_sink(user="pix", password="s3cret") as sink:
        mailer = SmtpMailer(SmtpConfig.parse(f"smtp://pix:s3cret@127.0.0.1:{sink.port}"))
        mailer.send(message())
        (got,) = sink.wait_for(1)
    assert got.rcpt_tos == ["ana@example.org"]
    assert got.message["Subject"] == "Your Pencil picture is ready"
    assert got.message.get_body(preferencelist=("html",)) is not None


def test_starttls_refused_by_a_plain_server_is_a_mail_error() -> None:
    with smtp_sink() as sink:
        mailer = SmtpMailer(SmtpConfig.parse(f"smtp://127.0.0.1:{sink.port}?starttls=true"))
        with pytest.raises(MailError):
            mailer.send(message())
