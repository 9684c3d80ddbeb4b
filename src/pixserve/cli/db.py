"""``pixserve db``: the job database's schema."""

from __future__ import annotations

import click

from pixserve.cli.options import friendly_errors
from pixserve.core.settings import get_settings
from pixserve.queue import migrate


@click.group()
def db() -> None:
    """Manage the job database."""


@db.command()
@friendly_errors
def upgrade() -> None:
    """Create or upgrade the schema to the newest revision."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    migrate.upgrade(url)
    click.echo(f"database at revision {migrate.current_revision(url)}")
