"""Blob keys: the one rule that keeps every key inside its store.

A key is a relative POSIX path such as ``jobs/<id>/input.jpg``: segments separated by ``/``,
none empty, none ``.`` or ``..``, no backslash, no NUL or other control character, and no
segment that looks like one of :class:`~pixserve.storage.local.LocalBlobStore`'s temp files.
Every store validates keys the same way so a key that works in unit tests works in production.
"""

from __future__ import annotations

from pixserve.core.errors import InvalidRequest

#: Suffix of the temporary files ``LocalBlobStore`` writes before renaming them into place.
TEMP_SUFFIX = ".pixserve-tmp"

MAX_KEY_LENGTH = 1024


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is a safe relative key; raise ``InvalidRequest`` if not."""
    if not isinstance(key, str) or not key:
        raise InvalidRequest("a blob key must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(f"blob key longer than {MAX_KEY_LENGTH} characters")
    if any(ord(c) < 0x20 or c == "\x7f" for c in key):
        raise InvalidRequest(f"blob key {key!r} contains a control character")
    if "\\" in key:
        raise InvalidRequest(f"blob key {key!r} contains a backslash")
    if key.startswith("/"):
        raise InvalidRequest(f"blob key {key!r} is absolute")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidRequest(f"blob key {key!r} has an empty, '.' or '..' segment")
        if segment.endswith(TEMP_SUFFIX):
            raise InvalidRequest(f"blob key {key!r} uses the reserved suffix {TEMP_SUFFIX}")
    return key


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if it could start a valid key ('' and a trailing '/' allowed)."""
    if prefix == "":
        return prefix
    body = prefix[:-1] if prefix.endswith("/") else prefix
    if not body:
        raise InvalidRequest("a blob key prefix cannot be '/'")
    validate_key(body)
    return prefix
