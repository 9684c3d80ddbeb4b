"""The page in Spanish: chosen from Accept-Language, from the ``lang`` cookie, or with the
switch (which remembers it); every string of the page is in the Spanish catalogue; a whole
visit in Spanish, errors included."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from babel.messages.pofile import read_po

from tests.support.browser import (
    astronaut_jpeg,
    choose_photo,
    open_home,
    pick_style,
    wait_for_result,
)

pytestmark = pytest.mark.e2e

SRC = Path(__file__).resolve().parents[2] / "src" / "pixserve"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
CARTOON = '.style-card[data-style="cartoon"]'


@pytest.fixture(scope="module")
def astronaut(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return astronaut_jpeg(tmp_path_factory.mktemp("images") / "astronaut.jpg")


def page_msgids() -> set[str]:
    """Every ``t("…")`` of the page: the template and the ES modules."""
    ids = set()
    template = (SRC / "web" / "templates" / "index.html").read_text()
    ids |= {m.group(2) for m in re.finditer(r"\bt\(\s*([\"'])(.*?)\1\s*[,)]", template)}
    for module in (SRC / "web" / "static" / "js").glob("*.js"):
        for m in re.finditer(r'\bt\(\s*"((?:[^"\\]|\\.)*)"', module.read_text()):
            ids.add(json.loads(f'"{m.group(1)}"'))
    return ids


def catalogue(lang: str) -> dict[str, str]:
    with (SRC / "locale" / lang / "LC_MESSAGES" / "page.po").open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id}


def test_every_page_string_is_in_the_catalogues() -> None:
    ids = page_msgids()
    assert len(ids) > 100
    english, spanish = catalogue("en"), catalogue("es")
    assert set(english) == ids, "locale/en/LC_MESSAGES/page.po is not the page's strings"
    assert set(spanish) == ids, "locale/es/LC_MESSAGES/page.po is not the page's strings"
    for msgid, text in spanish.items():
        assert text, f"no Spanish for {msgid!r}"
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(msgid)), msgid


def test_accept_language_cookie_and_query_choose_the_language(live_server: str) -> None:
    def lang_of(**kwargs) -> tuple[str, httpx.Response]:
        response = httpx.get(live_server + "/", **kwargs)
        assert response.status_code == 200
        return re.search(r'<html lang="(\w+)"', response.text).group(1), response

    lang, response = lang_of(headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert lang == "es"
    assert "Elige una foto" in response.text
    assert set(response.headers["vary"].replace(" ", "").split(",")) >= {
        "Accept-Language",
        "Cookie",
    }
    assert lang_of(headers={"Accept-Language": "fr, en;q=0.5"})[0] == "en"
    assert lang_of(headers={"Accept-Language": "en"}, cookies={"lang": "es"})[0] == "es"
    assert lang_of(cookies={"lang": "es"}, params={"lang": "en"})[0] == "en"


def test_the_switch_remembers_the_language(live_server: str, open_page, shots) -> None:
    w = open_page(locale="en-US")
    page = w.page
    open_home(w, live_server)
    assert page.evaluate("document.documentElement.lang") == "en"
    with page.expect_navigation():
        page.click('.lang-button[data-lang="es"]')
    page.locator(".style-card").first.wait_for()
    assert page.evaluate("document.documentElement.lang") == "es"
    assert page.locator("#step-photo-text").text_content() == "Elige una foto"
    assert page.locator(f"{CARTOON} .style-title").text_content().startswith("Dibujo animado")
    assert page.locator('.lang-button[data-lang="es"]').get_attribute("aria-pressed") == "true"
    cookie = next(c for c in page.context.cookies() if c["name"] == "lang")
    assert cookie["value"] == "es" and cookie["sameSite"] == "Lax"
    assert cookie["expires"] > 300 * 24 * 3600  # about a year from now (seconds since 1970)
    shots(page, "switched-to-spanish")
    # Remembered: a new visit is in Spanish though the browser asks for English.
    open_home(w, live_server)
    assert page.evaluate("document.documentElement.lang") == "es"
    with page.expect_navigation():
        page.click('.lang-button[data-lang="en"]')
    page.locator(".style-card").first.wait_for()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator(f"{CARTOON} .style-title").text_content().startswith("Cartoon")
    w.assert_clean()


def test_the_cards_follow_lang_in_the_address(live_server: str, open_page) -> None:
    """``?lang=es`` from an English browser: the style cards are in Spanish like the page."""
    w = open_page(locale="en-US")
    page = w.page
    open_home(w, live_server, "/?lang=es")
    assert page.evaluate("document.documentElement.lang") == "es"
    assert page.locator(f"{CARTOON} .style-title").text_content().startswith("Dibujo animado")
    w.assert_clean()


def test_a_visit_in_spanish(
    live_server: str, open_page, shots, astronaut: Path, tmp_path: Path
) -> None:
    w = open_page(locale="es-ES")
    page = w.page
    open_home(w, live_server)
    shots(page, "inicio")
    assert page.title() == "pixserve — transforma tu foto"
    assert page.locator("#submit").text_content().strip() == "Transformar mi foto"
    # The built-in styles' cards, from their style.toml's [translations.es].
    assert page.locator(f"{CARTOON} .style-title").text_content().startswith("Dibujo animado")
    assert page.locator(f"{CARTOON} .style-desc").text_content() == (
        "Colores planos y trazos de tinta marcados, como en un cómic."
    )

    # A text file named .jpg: the error is in Spanish, and the page goes on.
    notes = tmp_path / "lista.jpg"
    notes.write_text("leche\nhuevos\n")
    pick_style(w, "cartoon")
    page.set_input_files("#file-input", str(notes))
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert error.get_attribute("data-code") == "unsupported_image"
    assert error.text_content().startswith("Ese archivo no es una foto que podamos leer")
    shots(page, "archivo-rechazado")

    choose_photo(w, astronaut)
    assert error.is_hidden()
    assert "Hemos encontrado una cara" in page.locator("#crop-note").text_content()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=style-size]').textContent"
        ".startsWith('Resultado:')"
    )
    shots(page, "foto-y-recorte")
    page.click("#submit")
    wait_for_result(w)
    shots(page, "resultado")
    assert page.locator("#status").text_content().startswith("¡Listo!")
    assert page.locator("#result-size").text_content().endswith("píxeles")
    assert page.locator("#label-before").text_content() == "Antes"
    assert page.locator("#download").text_content().strip() == "Descargar"

    page.click("#delete")
    page.wait_for_function(
        "() => document.querySelector('#status').textContent.startsWith('Borrado')"
    )
    shots(page, "borrado")
    w.assert_clean(allow_console=("status of 415",))
