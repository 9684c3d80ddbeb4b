"""Signed links: genuine ones pass, changed ones are refused, old ones expire."""

from __future__ import annotations

import os
import stat

import pytest

from pixserve.core.errors import LinkError, LinkExpired
from pixserve.notify.secret import SECRET_FILE, load_secret
from pixserve.notify.signing import LinkSigner


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_link_works_until_it_expires() -> None:
    clock = Clock()
    signer = LinkSigner(b"k" * 32, clock=clock)
    expires, sig = signer.sign("job1", "result", ttl_seconds=60)
    assert expires == 1_700_000_060
    signer.verify("job1", "result", str(expires), sig)
    clock.now += 61
    with pytest.raises(LinkExpired):
        signer.verify("job1", "result", expires, sig)


@pytest.mark.parametrize(
    "change",
    [
        {"job_id": "job2"},
        {"variant": "preview"},
        {"expires": "1700009999"},
        {"signature": "x"},
        {"expires": "soon"},
    ],
)
def test_any_change_is_refused_as_invalid(change: dict[str, str]) -> None:
    signer = LinkSigner(b"k" * 32, clock=Clock())
    expires, sig = signer.sign("job1", "result", ttl_seconds=60)
    args = {"job_id": "job1", "variant": "result", "expires": str(expires), "signature": sig}
    args.update(change)
    with pytest.raises(LinkError) as info:
        signer.verify(**args)
    assert type(info.value) is LinkError  # never "expired" for a forged expiry


def test_another_key_does_not_verify() -> None:
    expires, sig = LinkSigner(b"a" * 32, clock=Clock()).sign("j", "result", ttl_seconds=60)
    with pytest.raises(LinkError):
        LinkSigner(b"b" * 32, clock=Clock()).verify("j", "result", expires, sig)


def test_the_secret_is_made_once_private_and_reused(tmp_path, caplog) -> None:
    first = load_secret(None, tmp_path)
    path = tmp_path / SECRET_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "generated one" in caplog.text
    assert load_secret(None, tmp_path) == first
    assert len(first) >= 32
    assert load_secret("configured-secret-value", tmp_path) == b"configured-secret-value"
    with pytest.raises(ValueError):
        load_secret("short", tmp_path)
