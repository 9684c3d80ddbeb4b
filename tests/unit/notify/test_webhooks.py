"""Standard Webhooks signatures and the SSRF rules for webhook targets."""

from __future__ import annotations

import pytest

from pixserve.core.errors import WebhookRefused
from pixserve.notify.targets import check_target, refusal
from pixserve.notify.webhooks import job_webhook_secret, sign, signed_headers, verify

# The example of the Standard Webhooks specification's reference libraries.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_matches_the_reference_example() -> None:
    assert sign(SECRET, MSG_ID, TIMESTAMP, BODY) == EXPECTED


def test_headers_verify_and_tampering_does_not() -> None:
    headers = signed_headers(SECRET, MSG_ID, BODY, now=TIMESTAMP)
    assert headers["webhook-id"] == MSG_ID
    assert headers["webhook-timestamp"] == str(TIMESTAMP)
    assert verify(SECRET, headers, BODY, now=TIMESTAMP + 10)
    assert not verify(SECRET, headers, BODY + b" ", now=TIMESTAMP)
    assert not verify(SECRET, {**headers, "webhook-id": "msg_other"}, BODY, now=TIMESTAMP)
    assert not verify(SECRET, headers, BODY, now=TIMESTAMP + 3600)  # replayed later
    assert not verify(SECRET, {}, BODY)


def test_job_secrets_are_per_job_and_stable() -> None:
    a = job_webhook_secret(b"s" * 32, "job-a")
    assert a.startswith("whsec_") and a == job_webhook_secret(b"s" * 32, "job-a")
    assert a != job_webhook_secret(b"s" * 32, "job-b")


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("172.16.5.4", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),
        ("100.64.0.1", "private"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
    ],
)
def test_refusal_reasons(address: str, reason: str | None) -> None:
    got = refusal(address)
    assert (got is None) == (reason is None)
    if reason and got not in ("not global", reason):
        pytest.fail(f"{address}: {got}")


def resolver(answers: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("Name or service not known")
        return answers[host]

    return resolve


def test_every_resolved_address_is_checked() -> None:
    dns = resolver(
        {"good.example": ["93.184.216.34"], "sly.example": ["93.184.216.34", "10.0.0.5"]}
    )
    target = check_target("https://good.example/hook?x=1", resolver=dns)
    assert (target.host, target.port, target.path) == ("good.example", 443, "/hook?x=1")
    with pytest.raises(
        WebhookRefused, match=r"10\.0\.0\.5, which is not a public address \(private\)"
    ):
        check_target("https://sly.example/hook", resolver=dns)
    allowed = check_target("https://sly.example/hook", resolver=dns, allow_private=True)
    assert allowed.addresses == ("93.184.216.34", "10.0.0.5")


@pytest.mark.parametrize(
    "url", ["ftp://good.example/x", "http:///nohost", "https://nowhere.example/", "javascript:x"]
)
def test_bad_urls_are_refused(url: str) -> None:
    dns = resolver({"good.example": ["93.184.216.34"]})
    with pytest.raises(WebhookRefused) as info:
        check_target(url, resolver=dns)
    assert info.value.code == "webhook_refused"
