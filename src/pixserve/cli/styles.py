"""``pixserve styles``: what this installation can serve."""

from __future__ import annotations

import json

import click

from pixserve.cli.options import friendly_errors
from pixserve.core.settings import get_settings
from pixserve.pipeline.catalog import Catalog


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the catalog as JSON.")
@friendly_errors
def styles(as_json: bool) -> None:
    """List built-in styles and those under PIXSERVE_STYLES_PATH."""
    catalog = Catalog.load(get_settings().style_dirs)
    if as_json:
        click.echo(json.dumps([s.info() for s in catalog], indent=2))
        return
    rows = [(s.name, s.kind, "yes" if s.fast else "no", s.title) for s in catalog]
    widths = [max(len(r[i]) for r in [("NAME", "KIND", "FAST", "TITLE"), *rows]) for i in range(4)]
    for row in [("NAME", "KIND", "FAST", "TITLE"), *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
