from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pixserve.core.errors import BundleError, UnknownStyle
from pixserve.core.i18n import DEFAULT_LANGUAGE, LANGUAGES
from pixserve.pipeline import BUILTIN_DIR, Catalog, Kind
from pixserve.pipeline.upscalers import UPSCALERS
from tests.unit.pipeline.bundles import builtin_toml, write_bundle

OPERATOR_STYLES = {"cartoon", "pencil", "pencil-color", "watercolor", "oil"}
#: Trained by pixserve itself (docs/builtin-models.md).
TRAINED_STYLES = {"mosaic", "oil-fast"}
BUILTINS = OPERATOR_STYLES | TRAINED_STYLES | set(UPSCALERS)


def _kind(name: str) -> Kind:
    if name in OPERATOR_STYLES:
        return Kind.BUILTIN
    return Kind.ONNX if name in TRAINED_STYLES else Kind.UPSCALER


def test_builtins_are_all_there_with_thumbnails() -> None:
    catalog = Catalog.load([], strict=True)
    assert set(catalog.names()) == BUILTINS
    assert len(catalog) == len(BUILTINS)
    for style in catalog:
        assert style.kind is _kind(style.name)
        assert style.path.parent == BUILTIN_DIR
        assert style.thumbnail is not None
        assert 0 < style.thumbnail.stat().st_size < 40_000
        assert style.info()["limits"]["max_side"] == style.max_side


@pytest.mark.parametrize("lang", [code for code in LANGUAGES if code != DEFAULT_LANGUAGE])
def test_every_builtin_is_translated(lang: str) -> None:
    """A new built-in (or a new language) cannot forget its ``[translations.<lang>]``."""
    for style in Catalog.load([], strict=True):
        translation = style.manifest.translations.get(lang)
        assert translation is not None, f"{style.name}: no [translations.{lang}]"
        assert translation.title, f"{style.name}: no [translations.{lang}] title"
        if style.description:
            assert translation.description, f"{style.name}: no [translations.{lang}] description"
        assert style.info(lang)["title"] == translation.title


def test_the_trained_styles_ship_small_verified_models() -> None:
    catalog = Catalog.load([], strict=True)
    for name in TRAINED_STYLES:
        style = catalog.get(name)
        assert style.model is not None and style.fast
        assert style.model.path.stat().st_size <= 5_000_000  # weights ≤ 5 MB each
        config = (style.path / "config.json").read_text()
        assert '"verification"' in config and '"arch"' in config  # how it was made, checked


def test_user_bundle_overrides_builtin_and_adds_new(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_bundle(tmp_path, "my-cartoon", builtin_toml("cartoon", extra='title = "Mine"'))
    write_bundle(tmp_path, "sketchy", builtin_toml("sketchy", operator="pencil"))
    with caplog.at_level(logging.WARNING):
        catalog = Catalog.load([tmp_path])
    assert catalog.get("cartoon").title == "Mine"
    assert catalog.get("cartoon").path == tmp_path / "my-cartoon"
    assert "sketchy" in catalog
    assert len(catalog) == len(BUILTINS) + 1
    assert any("overrides" in r.message and r.levelno == logging.WARNING for r in caplog.records)


def test_later_folder_wins(tmp_path: Path) -> None:
    write_bundle(tmp_path / "a", "s", builtin_toml("s", extra='title = "A"'))
    write_bundle(tmp_path / "b", "s", builtin_toml("s", extra='title = "B"'))
    assert Catalog.load([tmp_path / "a", tmp_path / "b"]).get("s").title == "B"


def test_broken_user_bundle_is_skipped_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_bundle(tmp_path, "broken", builtin_toml("broken", operator="nope"))
    write_bundle(tmp_path, "fine", builtin_toml("fine"))
    (tmp_path / "not-a-bundle").mkdir()
    with caplog.at_level(logging.ERROR):
        catalog = Catalog.load([tmp_path])
    assert "fine" in catalog
    assert "broken" not in catalog
    assert any("broken" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


def test_strict_raises_on_a_broken_bundle(tmp_path: Path) -> None:
    write_bundle(tmp_path, "broken", builtin_toml("broken", operator="nope"))
    with pytest.raises(BundleError, match="unknown operator 'nope'"):
        Catalog.load([tmp_path], strict=True)


def test_missing_extra_folder(tmp_path: Path) -> None:
    assert set(Catalog.load([tmp_path / "nowhere"]).names()) == BUILTINS
    with pytest.raises(BundleError, match="does not exist"):
        Catalog.load([tmp_path / "nowhere"], strict=True)


def test_unknown_style_names_it() -> None:
    catalog = Catalog.load([])
    with pytest.raises(UnknownStyle, match="“picasso”"):
        catalog.get("picasso")
    assert "picasso" not in catalog
    assert 42 not in catalog


def test_only_serves_the_styles_named_or_matched() -> None:
    catalog = Catalog.load()
    assert catalog.only([]) is catalog
    chosen = catalog.only(["oil", "waifu2x-photo-*"])
    assert "oil" in chosen and "waifu2x-photo-2x" in chosen
    assert "pencil" not in chosen and "waifu2x-anime-2x" not in chosen
    assert chosen.names() == [n for n in catalog.names() if n in chosen]  # order kept


def test_only_refuses_a_name_that_matches_nothing() -> None:
    with pytest.raises(BundleError, match="'toonify'"):
        Catalog.load().only(["oil", "toonify"])
