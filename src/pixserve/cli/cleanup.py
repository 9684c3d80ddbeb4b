"""``pixserve cleanup``: apply the retention rules now (workers also do it periodically)."""

from __future__ import annotations

import json

import click

from pixserve.bootstrap import build_runtime
from pixserve.cli.options import friendly_errors
from pixserve.core.settings import get_settings


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print what was deleted as JSON.")
@friendly_errors
def cleanup(as_json: bool) -> None:
    """Delete originals, failed jobs' images, expired results and old records, per settings."""
    runtime = build_runtime(get_settings(), warm=False)
    try:
        report = runtime.retention.run_once()
    finally:
        runtime.close()
    counts = {
        "originals": report.originals,
        "failed_or_canceled": report.failed,
        "results_expired": report.expired,
        "records": report.records,
    }
    if as_json:
        click.echo(json.dumps(counts))
        return
    click.echo(
        f"deleted {report.originals} originals, images of {report.failed} failed/canceled "
        f"jobs, {report.expired} expired results, {report.records} old records"
    )
