"""``Catalog``: every style the service offers, built in or from ``PIXSERVE_STYLES_PATH``."""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

from pixserve.core.errors import BundleError, UnknownStyle
from pixserve.core.i18n import N_
from pixserve.pipeline.bundle import MANIFEST, load_bundle
from pixserve.pipeline.style import Style

log = logging.getLogger(__name__)

#: The bundles shipped inside the package, one folder each.
BUILTIN_DIR = Path(__file__).parent / "builtin"


class Catalog:
    """Styles by name, in a stable order (built-ins first, then extra folders, by name)."""

    def __init__(self, styles: Sequence[Style] = ()) -> None:
        self._styles: dict[str, Style] = {}
        for style in styles:
            self._styles[style.name] = style

    @classmethod
    def load(
        cls,
        extra_dirs: Sequence[Path | str] = (),
        *,
        strict: bool = False,
        builtin_dir: Path | None = None,
    ) -> Catalog:
        """Read the built-in bundles, then each bundle folder directly under ``extra_dirs``.

        A user bundle with a built-in's (or an earlier user bundle's) name replaces it, with a
        warning. A broken user bundle is logged and skipped, unless ``strict`` is true, where
        its :class:`BundleError` is raised. Broken built-ins always raise: they are bugs.
        """
        styles: dict[str, Style] = {}
        for folder in _bundle_folders(builtin_dir or BUILTIN_DIR):
            style = load_bundle(folder)
            styles[style.name] = style
        for extra in extra_dirs:
            extra = Path(extra)
            if not extra.is_dir():
                message = f"styles folder {extra} does not exist"
                if strict:
                    raise BundleError(message)
                log.error(message)
                continue
            for folder in _bundle_folders(extra):
                try:
                    style = load_bundle(folder)
                except BundleError as exc:
                    if strict:
                        raise
                    log.error("skipping style bundle %s: %s", folder, exc.message)
                    continue
                if style.name in styles:
                    log.warning(
                        "style %r from %s overrides the one from %s",
                        style.name,
                        folder,
                        styles[style.name].path,
                    )
                styles[style.name] = style
        return cls(list(styles.values()))

    def get(self, name: str) -> Style:
        """The style called ``name``; raises :class:`UnknownStyle` naming it."""
        try:
            return self._styles[name]
        except KeyError:
            raise UnknownStyle(N_("There is no style called “{name}”."), name=name) from None

    def only(self, patterns: Sequence[str]) -> Catalog:
        """The styles whose names match one of ``patterns`` (shell globs); all when empty.

        A pattern that matches no style raises :class:`BundleError`: a node told to serve a
        style it does not have would otherwise start and refuse every job for it.
        """
        if not patterns:
            return self
        unmatched = [p for p in patterns if not fnmatch.filter(self._styles, p)]
        if unmatched:
            raise BundleError(
                f"PIXSERVE_STYLES names no style matching {', '.join(map(repr, unmatched))}; "
                f"there are: {', '.join(self._styles)}"
            )
        return Catalog([s for s in self if any(fnmatch.fnmatchcase(s.name, p) for p in patterns)])

    def names(self) -> list[str]:
        """Every style name, in catalog order."""
        return list(self._styles)

    def __iter__(self) -> Iterator[Style]:
        return iter(list(self._styles.values()))

    def __len__(self) -> int:
        return len(self._styles)

    def __contains__(self, name: object) -> bool:
        return name in self._styles


def _bundle_folders(root: Path) -> list[Path]:
    # A folder is a bundle if it holds a manifest; other folders (e.g. .git) are ignored.
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / MANIFEST).is_file())
