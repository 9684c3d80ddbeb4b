"""The one message catalogue: gettext PO files per language and domain, read with Babel.

Every text a person reads is written in English in the code, and that English text is the
msgid (the gettext norm). Translations live in
``pixserve/locale/<lang>/LC_MESSAGES/<domain>.po``, one file per language and domain:

- ``messages``: what the server writes (API error messages, e-mails, the privacy and link
  pages);
- ``page``: the upload page's strings, handed to the browser as one JSON object.

Code marks what it translates: ``gettext(lang, "…")`` and ``ngettext(lang, "…", "…", n)``
where the language is known, ``N_("…")`` where the text is only chosen now and translated
later (an error's message, translated when the response is written); templates call
``_("…")``. The tests extract those marks with Babel and fail on any msgid without a
translation. Adding a language: docs/architecture.md, "Languages".
"""

from __future__ import annotations

import functools
import gettext as _gettext
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources

#: The languages pixserve speaks; the first is the fallback and the language of the msgids.
LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = LANGUAGES[0]
#: The catalogue of the server's own texts.
DOMAIN = "messages"


def N_(msgid: str) -> str:  # the gettext name every extractor knows
    """``msgid`` unchanged: marks a text for the catalogue that is translated later."""
    return msgid


def _primary(tag: str | None) -> str | None:
    """``es`` for ``es-MX``/``ES``, if it is a language pixserve speaks, else None."""
    if not tag:
        return None
    primary = tag.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LANGUAGES else None


def parse_accept_language(header: str | None) -> str | None:
    """The best language pixserve speaks in an ``Accept-Language`` header, or None.

    Entries are ranked by their ``q`` (ties keep the header's order) and matched on the
    primary subtag, so ``fr-FR,es;q=0.5,en;q=0.4`` gives ``es``; ``q=0`` means "not this".
    """
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = _primary(tag)
        if primary and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else None


def choose_language(
    query: str | None = None, cookie: str | None = None, accept_language: str | None = None
) -> str:
    """The language to speak: ``?lang=``, then the ``lang`` cookie, then Accept-Language.

    A source counts only if it names a language pixserve speaks; English when none does.
    """
    return (
        _primary(query)
        or _primary(cookie)
        or parse_accept_language(accept_language)
        or DEFAULT_LANGUAGE
    )


@dataclass(frozen=True)
class _Translations:
    """One PO file: msgid → msgstr, plural msgid → its forms, and the plural rule."""

    singular: dict[str, str] = field(default_factory=dict)
    plural: dict[str, tuple[str, ...]] = field(default_factory=dict)
    plural_form: Callable[[int], int] = field(default=lambda n: int(n != 1))


@functools.cache
def _load(lang: str, domain: str) -> _Translations:
    # English is the msgids themselves: nothing to read (its PO files are the template).
    if lang == DEFAULT_LANGUAGE or lang not in LANGUAGES or not domain.isidentifier():
        return _Translations()
    path = resources.files("pixserve") / "locale" / lang / "LC_MESSAGES" / f"{domain}.po"
    if not path.is_file():
        return _Translations()
    # Babel is imported when a text is first translated, not by everything that imports core.
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        po = read_po(handle, locale=lang, domain=domain)
    singular: dict[str, str] = {}
    plural: dict[str, tuple[str, ...]] = {}
    for message in po:
        # Untranslated and fuzzy entries fall back to English rather than show a guess.
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, str):
            if isinstance(message.string, str) and message.string:
                singular[message.id] = message.string
        elif isinstance(message.string, tuple | list) and all(message.string):
            plural[message.id[0]] = tuple(message.string)
    return _Translations(singular, plural, _gettext.c2py(po.plural_expr))


def catalog(lang: str, domain: str = DOMAIN) -> dict[str, str]:
    """Every translated msgid of ``domain`` in ``lang`` → its translation ({} for English).

    A fresh copy, safe to hand to a template or to the browser as JSON.
    """
    return dict(_load(lang, domain).singular)


def is_translated(lang: str, msgid: str, domain: str = DOMAIN) -> bool:
    """Whether ``msgid`` has a translation into ``lang`` (never, for English)."""
    return msgid in _load(lang, domain).singular


def fill(lang: str, text: str, values: Mapping[str, object]) -> str:
    """``text`` with its ``{name}`` placeholders filled in; floats written the ``lang`` way.

    ``1.5`` is "1.5" in English and "1,5" in Spanish; ints and strings go in as they are
    (sizes like 3000×2000 read better without a thousands separator).
    """
    if not values:
        return text
    shown = {name: _number(lang, value) for name, value in values.items()}
    return text.format(**shown)


def _number(lang: str, value: object) -> object:
    if not isinstance(value, float):
        return value
    from babel.numbers import format_decimal

    return format_decimal(value, locale=lang)


def gettext(lang: str, msgid: str, domain: str = DOMAIN, **kwargs: object) -> str:
    """``msgid`` (the English text) in ``lang``, with ``{name}`` placeholders from kwargs.

    Falls back to ``msgid`` when there is no translation; see :func:`fill` for the values.
    """
    return fill(lang, _load(lang, domain).singular.get(msgid, msgid), kwargs)


def ngettext(
    lang: str, singular: str, plural: str, n: int, domain: str = DOMAIN, **kwargs: object
) -> str:
    """The form of ``singular``/``plural`` for ``n`` in ``lang``, ``{n}`` and kwargs filled in.

    The language's own rule (the PO header's ``Plural-Forms``) picks the form.
    """
    translations = _load(lang, domain)
    forms = translations.plural.get(singular)
    if forms:
        text = forms[min(translations.plural_form(n), len(forms) - 1)]
    else:
        text = singular if n == 1 else plural
    return fill(lang, text, {"n": n, **kwargs})
