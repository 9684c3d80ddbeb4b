"""The message catalogue: the language choice, lookups, and that every text is translated."""

from __future__ import annotations

import re
import string
from importlib import resources
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from pixserve.core import errors
from pixserve.core.i18n import (
    DOMAIN,
    LANGUAGES,
    N_,
    catalog,
    choose_language,
    gettext,
    is_translated,
    ngettext,
)

SRC = Path(errors.__file__).resolve().parents[1]
#: How the code marks a msgid: gettext(lang, msgid), ngettext(lang, singular, plural, n), N_(msgid).
PYTHON_KEYWORDS = {"gettext": (2,), "ngettext": (2, 3), "N_": None}
#: How the templates mark one: _(msgid, **values), ngettext(singular, plural, n).
TEMPLATE_KEYWORDS = {"_": None, "ngettext": (1, 2)}
JINJA = "jinja2.ext:babel_extract"


def used_msgids() -> dict[str | tuple[str, ...], list[str]]:
    """Every msgid of the ``messages`` domain the code and templates use → where."""
    found: dict[str | tuple[str, ...], list[str]] = {}
    for method_map, keywords in (
        ([("**.py", "python")], PYTHON_KEYWORDS),
        ([("web/templates/**", JINJA), ("notify/templates/**", JINJA)], TEMPLATE_KEYWORDS),
    ):
        for filename, lineno, msgid, *_ in extract_from_dir(
            str(SRC), method_map, keywords=keywords
        ):
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    # An error's default message is its class's docstring (the API and e-mails show it).
    stack: list[type[errors.PixserveError]] = [errors.PixserveError]
    while stack:
        cls = stack.pop()
        found.setdefault(cls.default_message(), []).append(f"core/errors.py:{cls.__name__}")
        stack.extend(cls.__subclasses__())
    return found


def po_file(lang: str):  # type: ignore[no-untyped-def]
    path = resources.files("pixserve") / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def tags(text: str) -> list[str]:
    return sorted(re.findall(r"</?\w+>", text))


@pytest.mark.parametrize(
    ("query", "cookie", "header", "lang"),
    [
        (None, None, "es-ES,es;q=0.9,en;q=0.8", "es"),
        (None, None, "fr-FR,fr;q=0.9,es;q=0.5,en;q=0.4", "es"),
        (None, None, "en-GB,es;q=0.9", "en"),
        (None, None, "es;q=0,en;q=0.1", "en"),
        (None, None, "es;q=bad", "en"),
        (None, None, "de", "en"),
        (None, None, None, "en"),
        ("es", None, "en", "es"),
        ("ES-mx", None, None, "es"),
        ("fr", None, "es", "es"),
        (None, "es", "en", "es"),
        ("en", "es", "es", "en"),
        (None, "../../etc", "es", "es"),
    ],
)
def test_choose_language(
    query: str | None, cookie: str | None, header: str | None, lang: str
) -> None:
    assert choose_language(query, cookie, header) == lang


def test_lookups_fall_back_to_the_english_msgid() -> None:
    assert catalog("en") == {}
    assert catalog("xx") == {} and catalog("../es") == {} and catalog("es", "../x") == {}
    assert catalog("es")["Not found."] == "No se ha encontrado."
    catalog("es")["Not found."] = "changed"  # a copy: the cached catalogue is untouched
    assert gettext("es", "Not found.") == "No se ha encontrado."
    assert gettext("es", "Never translated {x}", x=1) == "Never translated 1"
    assert gettext("en", "Reason: {reason}", reason="{odd}") == "Reason: {odd}"
    assert gettext("es", "Reason: {reason}", reason="x") == "Motivo: x"
    assert is_translated("es", "Not found.") and not is_translated("en", "Not found.")
    assert N_("anything") == "anything"


def test_numbers_and_plurals_follow_the_language() -> None:
    assert gettext("en", "The file is larger than the {limit} MB limit.", limit=9.5) == (
        "The file is larger than the 9.5 MB limit."
    )
    assert gettext("es", "The file is larger than the {limit} MB limit.", limit=9.5) == (
        "El archivo supera el límite de 9,5 MB."
    )
    assert ngettext("es", "{n} hour", "{n} hours", 1) == "1 hora"
    assert ngettext("es", "{n} hour", "{n} hours", 0) == "0 horas"
    assert ngettext("en", "{n} hour", "{n} hours", 10000) == "10000 hours"
    assert ngettext("es", "{n} fortnight", "{n} fortnights", 2) == "2 fortnights"


def test_every_text_the_code_uses_is_translated() -> None:
    used = used_msgids()
    assert len(used) > 50  # the extraction found the marks
    for lang in LANGUAGES[1:]:
        translated = {m.id: m.string for m in po_file(lang) if m.id}
        missing = {
            msgid: where
            for msgid, where in used.items()
            if not translated.get(msgid)
            or (isinstance(msgid, tuple) and not all(translated[msgid]))
        }
        assert not missing, f"{lang}: add these to locale/{lang}/LC_MESSAGES/{DOMAIN}.po"
        fuzzy = [m.id for m in po_file(lang) if m.id and m.fuzzy]
        assert not fuzzy, f"{lang}: fuzzy entries fall back to English: {fuzzy}"


def test_every_catalogue_lists_exactly_the_texts_in_use() -> None:
    used = set(used_msgids())
    for lang in LANGUAGES:
        listed = {m.id for m in po_file(lang) if m.id}
        assert listed - used == set(), f"{lang}: no longer used, remove them"
        assert used - listed == set(), f"{lang}: missing"


def test_translations_keep_placeholders_and_markup() -> None:
    for lang in LANGUAGES[1:]:
        for message in po_file(lang):
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for text in strings:
                assert placeholders(text) == placeholders(ids[-1]), (lang, message.id)
                assert tags(text) == tags(ids[0]), (lang, message.id)
