"""PostgreSQL for integration tests: a fresh database per test session on the machine's server,
and private throw-away servers for tests that stop and start PostgreSQL.

The machine's server is found through ``PIXSERVE_TEST_POSTGRES_URL`` (default: trust auth on
127.0.0.1:5432, database ``test``). When it cannot be reached the tests fail, never skip:
``.ci/run`` starts it.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from tests.support.server import free_port

ADMIN_URL = os.environ.get(
    "PIXSERVE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def admin_connect(url: str = ADMIN_URL) -> psycopg.Connection:
    """An autocommit connection to the server's admin database; fails loudly if it is down."""
    try:
        return psycopg.connect(_conninfo(url), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise RuntimeError(
            f"cannot reach PostgreSQL at {make_url(url).render_as_string()} ({exc}); "
            "integration tests need it: start it (.ci/run does) or set PIXSERVE_TEST_POSTGRES_URL"
        ) from exc


def create_database(url: str = ADMIN_URL) -> str:
    """Create an empty, uniquely named database on the server of ``url``; return its URL."""
    name = f"pixserve_test_{secrets.token_hex(4)}"
    with admin_connect(url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_database(db_url: str, url: str = ADMIN_URL) -> None:
    """Drop the database of ``db_url``, closing whatever is still connected to it."""
    name = make_url(db_url).database
    with admin_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    if found:
        return found[-1]
    path = shutil.which(tool)
    if path is None:
        raise RuntimeError(f"{tool} not found (install the postgresql server package)")
    return path


@dataclass
class PrivatePostgres:
    """A PostgreSQL server of our own in a temp folder, on a free port, that a test may stop.

    Servers refuse to run as root, so when the tests run as root the server runs as the
    ``postgres`` OS user.
    """

    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="pixserve-pg-")))

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        user = None
        if os.geteuid() == 0:
            user = "postgres"
        return subprocess.run(
            list(args), check=check, capture_output=True, text=True, user=user, timeout=120
        )

    def init(self) -> PrivatePostgres:
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run(
            _pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync"
        )
        return self

    def start(self) -> PrivatePostgres:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c max_connections=200"
        )
        self._run(
            _pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(_conninfo(self.url), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
