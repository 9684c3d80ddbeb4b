"""E-mail: the SMTP URL, and the message the templates make in the job's language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pixserve.notify.compose import JobEmail, compose
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
    msg = compose(
        email(lang="en", succeeded=False, style_title="<b>Ink</b>", error_code="no_face_found")
    )
    assert msg["Subject"] == "We could not finish your <b>Ink</b> picture"
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "into the &lt;b&gt;Ink&lt;/b&gt; style" in html
    assert "result?expires" not in html
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "Reason: No face was found in the image; this style needs one." in text


def test_failure_message_in_spanish_gives_the_reason_in_spanish() -> None:
    msg = compose(email(succeeded=False, error_code="no_face_found", preview=None))
    assert msg["Subject"] == "No pudimos terminar tu imagen con el estilo Lápiz"
    reason = "Motivo: No se ha encontrado ninguna cara en la imagen; este estilo necesita una."
    for part in ("plain", "html"):
        body = msg.get_body(preferencelist=(part,)).get_content()
        assert reason in body
        assert "Lo sentimos, no pudimos convertir tu foto al estilo Lápiz." in body
        assert "Reason" not in body and "face" not in body


def test_a_code_without_its_own_text_gets_the_generic_reason() -> None:
    for code, reason in [
        ("lease_expired", "Motivo: Intentamos crear esta imagen varias veces"),
        ("something_new", "Motivo: Algo ha fallado por nuestra parte."),
    ]:
        msg = compose(email(succeeded=False, error_code=code, preview=None))
        assert reason in msg.get_body(preferencelist=("plain",)).get_content()
