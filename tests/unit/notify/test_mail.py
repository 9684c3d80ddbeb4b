"""E-mail: the SMTP URL, the language choice, and the message the templates make."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pixserve.notify.compose import JobEmail, compose
from pixserve.notify.i18n import choose_language
from pixserve.notify.mail import MemoryMailer, SmtpConfig, SmtpMailer, open_mailer


def test_smtp_urls() -> None:
    plain = SmtpConfig.parse("smtp://mail.example:2525")
    assert (plain.host, plain.port, plain.ssl, plain.starttls, plain.username) == (
        "mail.example",
        2525,
        False,
        False,
        None,
    )
    tls = SmtpConfig.parse("smtp://me%40x.org:p%3Ass@mail.example:587?starttls=true&timeout=5")
    assert (tls.starttls, tls.username, tls.password, tls.timeout) == (True, "me@x.org", "p:ss", 5)
    ssl = SmtpConfig.parse("smtps://u:p@mail.example")
    assert (ssl.ssl, ssl.port) == (True, 465)
    for bad in ("http://x", "smtp://", "smtps://h?starttls=true"):
        with pytest.raises(ValueError):
            SmtpConfig.parse(bad)
    assert open_mailer(None) is None
    assert isinstance(open_mailer("memory://"), MemoryMailer)
    assert isinstance(open_mailer("smtp://localhost"), SmtpMailer)


@pytest.mark.parametrize(
    ("explicit", "header", "lang"),
    [
        (None, "es-ES,es;q=0.9,en;q=0.8", "es"),
        (None, "fr-FR,fr;q=0.9,es;q=0.5,en;q=0.4", "es"),
        (None, "en-GB,es;q=0.9", "en"),
        (None, "es;q=0,en;q=0.1", "en"),
        (None, "de", "en"),
        (None, None, "en"),
        ("es", "en", "es"),
        ("ES-mx", None, "es"),
        ("fr", "es", "es"),
    ],
)
def test_choose_language(explicit: str | None, header: str | None, lang: str) -> None:
    assert choose_language(explicit, header) == lang


def email(**kw: object) -> JobEmail:
    base: dict[str, object] = {
        "to": "ana@example.org",
        "sender": "pixserve <noreply@pix.example>",
        "lang": "es",
        "succeeded": True,
        "style_title": "Lápiz",
        "site_url": "https://pix.example/",
        "privacy_url": "https://pix.example/privacy",
        "result_url": "https://pix.example/v1/jobs/j/result?expires=1&signature=s",
        "preview_url": "https://pix.example/v1/jobs/j/preview?expires=1&signature=t",
        "expires_at": datetime(2030, 1, 2, 3, 4, tzinfo=UTC),
        "preview": b"\xff\xd8jpeg",
    }
    base.update(kw)
    return JobEmail(**base)  # type: ignore[arg-type]


def test_success_message_in_spanish_with_inline_preview() -> None:
    msg = compose(email())
    assert msg["To"] == "ana@example.org"
    assert msg["Subject"] == "Tu imagen con el estilo Lápiz está lista"
    assert msg["Content-Language"] == "es"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "https://pix.example/v1/jobs/j/result?expires=1&signature=s" in text
    assert "2030-01-02 03:04" in text
    related = msg.get_payload()[1]
    assert related.get_content_type() == "multipart/related"
    html_part, image = related.get_payload()
    html = html_part.get_content()
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html
    assert "result?expires=1&amp;signature=s" in html  # escaped in HTML
    assert image.get_content() == b"\xff\xd8jpeg"


def test_failure_message_in_english_escapes_what_it_quotes() -> None:
    msg = compose(email(lang="en", succeeded=False, error_message="<b>no face</b>", preview=None))
    assert msg["Subject"] == "We could not finish your Lápiz picture"
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "&lt;b&gt;no face&lt;/b&gt;" in html
    assert "result?expires" not in html
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "Reason: <b>no face</b>" in text
