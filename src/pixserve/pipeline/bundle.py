"""Reading a style bundle: a folder with ``style.toml``, maybe a model and a thumbnail.

The format itself is :mod:`pixserve.pipeline.manifest`; this module reads the file, checks
it against the manifest models (with the files it names resolved inside the folder) and
turns every problem into a :class:`BundleError` whose message names the file and the key.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from pixserve.core.errors import BundleError
from pixserve.pipeline.manifest import read_manifest
from pixserve.pipeline.manifest_errors import problems
from pixserve.pipeline.style import Style

MANIFEST = "style.toml"
THUMBNAIL = "thumbnail.jpg"


def load_bundle(folder: Path | str) -> Style:
    """Read ``folder/style.toml`` and return the :class:`Style` it describes.

    Raises :class:`BundleError` naming the file and key for anything missing, unknown, of
    the wrong type or out of range, including an unknown operator or post step, a model
    file that is missing or outside the folder, and an unreadable watermark image.
    """
    folder = Path(folder)
    manifest = folder / MANIFEST
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(f"{manifest}: file not found (a bundle needs a {MANIFEST})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleError(f"{manifest}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise BundleError(f"{manifest}: not valid TOML: {exc}") from exc
    try:
        checked = read_manifest(data, bundle=folder)
    except ValidationError as exc:
        raise BundleError(f"{manifest}: {'; '.join(problems(exc))}") from exc
    thumbnail = folder / THUMBNAIL
    return Style(checked, folder, thumbnail if thumbnail.is_file() else None)
