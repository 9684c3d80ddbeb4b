"""``pixserve client``: style one file through a running server, with a progress bar."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from pixserve.client import Client, PixserveClientError


@click.command("client")
@click.argument("style")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option(
    "--url",
    envvar="PIXSERVE_URL",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="The server (or PIXSERVE_URL).",
)
@click.option("--crop", default=None, help="x,y,w,h in the upright image.")
@click.option("--email", default=None, help="Also send the result (or the failure) here.")
@click.option(
    "--bot-token",
    envvar="PIXSERVE_BOT_TOKEN",
    default=None,
    help="A solved bot check's token, for a server with bot protection on.",
)
@click.option(
    "--timeout", type=float, default=None, help="Give up waiting after this many seconds."
)
def client(
    style: str,
    source: Path,
    out: Path,
    url: str,
    crop: str | None,
    email: str | None,
    bot_token: str | None,
    timeout: float | None,
) -> None:
    """Style SOURCE with STYLE on the server at --url and write the result to OUT.

    The job is durable on the server: if this command is interrupted, the job goes on.
    """
    bar = tqdm(
        total=100, unit="%", desc=style, bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}"
    )

    def progress(fraction: float, status: str, eta: float | None) -> None:
        bar.n = round(fraction * 100)
        bar.set_postfix_str(status if eta is None else f"{status}, about {eta:.0f} s left")

    try:
        with Client(url) as pix:
            data = pix.translate(
                source,
                style,
                crop=crop,
                email=email,
                bot_token=bot_token,
                progress=progress,
                timeout=timeout,
            )
    except PixserveClientError as exc:
        bar.close()
        click.secho(f"error: {exc.message} ({exc.code})", fg="red", err=True)
        sys.exit(1)
    bar.close()
    out.write_bytes(data)
    click.echo(f"{out} ({len(data):,} bytes)")
