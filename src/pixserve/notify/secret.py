"""The service secret: ``PIXSERVE_SECRET_KEY``, or one made once and kept in the data dir.

Every process of one deployment must share it (links signed by a web node are checked by
another); with several machines set ``PIXSERVE_SECRET_KEY``. On one machine the generated
file is enough: it is created with ``O_EXCL`` and mode 0600, so two processes starting at
once agree on one key and nobody else can read it.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from pathlib import Path

log = logging.getLogger(__name__)

SECRET_FILE = "secret.key"


def load_secret(configured: str | None, data_dir: Path) -> bytes:
    """The configured secret, else the one in ``data_dir/secret.key`` (created if missing)."""
    if configured:
        if len(configured) < 16:
            raise ValueError("PIXSERVE_SECRET_KEY must be at least 16 characters")
        return configured.encode()
    path = data_dir / SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    token = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    log.warning(
        "PIXSERVE_SECRET_KEY is not set: generated one in %s (mode 0600); every process "
        "serving this deployment must use the same key",
        path,
    )
    return token.encode()


def _read(path: Path) -> bytes:
    # A process that lost the O_EXCL race may read before the winner has written.
    for _ in range(50):
        text = path.read_text().strip()
        if text:
            return text.encode()
        time.sleep(0.02)
    raise ValueError(f"{path} is empty; delete it or set PIXSERVE_SECRET_KEY")
