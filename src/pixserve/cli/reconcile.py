"""``pixserve reconcile``: compare the job database with the blob store, and repair."""

from __future__ import annotations

import json
import sys

import click

from pixserve.bootstrap import build_runtime
from pixserve.cli.options import friendly_errors
from pixserve.core.settings import get_settings


@click.command()
@click.option("--fix", is_flag=True, help="Delete orphan blobs; fail or expire broken jobs.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@friendly_errors
def reconcile(fix: bool, as_json: bool) -> None:
    """Find blobs without jobs and jobs whose blobs are missing.

    Exits 0 when database and storage agree (or --fix settled everything), 2 when problems
    were found and left alone.
    """
    runtime = build_runtime(get_settings(), warm=False)
    try:
        report = runtime.reconciler.scan()
        if fix and not report.clean:
            runtime.reconciler.fix(report)
    finally:
        runtime.close()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "jobs_checked": report.jobs_checked,
                    "blobs_checked": report.blobs_checked,
                    "orphan_blobs": report.orphan_blobs,
                    "broken_jobs": [
                        {
                            "id": b.job_id,
                            "status": b.status.value,
                            "missing": b.missing,
                            "action": b.action,
                        }
                        for b in report.broken_jobs
                    ],
                    "fixed": report.fixed,
                },
                indent=2,
            )
        )
    else:
        click.echo(f"checked {report.jobs_checked} jobs and {report.blobs_checked} blobs")
        for key in report.orphan_blobs:
            click.echo(f"orphan blob {key}" + (" → deleted" if report.fixed else ""))
        for broken in report.broken_jobs:
            click.echo(broken.describe() if report.fixed else broken.describe().split(" → ")[0])
        if report.clean:
            click.echo("database and storage agree")
        elif not report.fixed:
            click.echo("run again with --fix to repair")
    if not report.clean and not report.fixed:
        sys.exit(2)
