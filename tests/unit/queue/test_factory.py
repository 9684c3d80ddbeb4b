"""``open_job_store`` picks the store from the URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixserve.core.errors import PixserveError
from pixserve.domain import NewJob
from pixserve.queue import SqlJobStore, current_revision, head_revision, open_job_store


def test_memory_is_a_migrated_sqlite_file_removed_on_close() -> None:
    store = open_job_store("memory://")
    assert isinstance(store, SqlJobStore)
    url = store._engine.url.render_as_string()
    assert current_revision(url) == head_revision()
    job = store.enqueue(NewJob(style="s", input_key="k"))
    assert store.claim("w1", lease_seconds=30) == [store.get(job.id)]
    other = open_job_store("memory://")
    assert other.get(job.id) is None  # each one its own
    other.close()
    folder = Path(store._engine.url.database or "").parent
    store.close()
    assert not folder.exists()


def test_sqlite_with_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/data/jobs.db"
    store = open_job_store(url, migrate=True)
    assert isinstance(store, SqlJobStore)
    assert current_revision(url) == head_revision()
    job = store.enqueue(NewJob(style="s", input_key="k"))
    assert store.get(job.id) == job
    store.close()


@pytest.mark.parametrize("url", ["", "mysql://u@h/db", "not a url"])
def test_unsupported(url: str) -> None:
    with pytest.raises(PixserveError):
        open_job_store(url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p@localhost:1/pixserve",
        "postgres://u:p@localhost:1/pixserve",
        "postgresql+psycopg://u:p@localhost:1/pixserve",
    ],
)
def test_postgres_urls_use_psycopg_3(url: str) -> None:
    from pixserve.queue.engine import normalize_url

    assert normalize_url(url).drivername == "postgresql+psycopg"
    store = open_job_store(url)  # connects lazily: nothing listens on port 1
    assert isinstance(store, SqlJobStore)
    assert store._engine.dialect.driver == "psycopg"
    store.close()
