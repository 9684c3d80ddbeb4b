"""``GET /v1/styles``: the catalog's fields for the page, and output sizes on request."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pixserve.inference import EngineCache
from pixserve.pipeline import Catalog, load_bundle
from pixserve.pipeline.renderer import Renderer
from pixserve.web import AppContext, create_app


@pytest.fixture
def app_for(settings, service, translator):
    def build(catalog, output_size=None) -> TestClient:
        ctx = AppContext(
            settings=settings,
            jobs=service,
            translate=translator,
            catalog=catalog,
            output_size=output_size,
        )
        return TestClient(create_app(ctx), raise_server_exceptions=False)

    return build


def test_fields_default_for_a_plain_style(app_for, catalog):
    with app_for(catalog) as client:
        style = client.get("/v1/styles").json()["styles"][0]
    assert style["input"] == "photo"
    assert style["crop_aspect"] is None and style["group"] is None
    assert style["output_size"] is None


def test_output_size_only_when_asked(app_for, catalog):
    asked: list[tuple[str, int, int]] = []

    def size(style: str, width: int, height: int) -> tuple[int, int]:
        asked.append((style, width, height))
        return width * 2, height * 2

    with app_for(catalog, size) as client:
        assert client.get("/v1/styles").json()["styles"][0]["output_size"] is None
        assert asked == []
        styles = client.get("/v1/styles", params={"width": 301, "height": 199}).json()["styles"]
        assert [s["output_size"] for s in styles] == [{"width": 602, "height": 398}] * 2
        assert asked == [("invert", 301, 199), ("slow", 301, 199)]
        for params in ({"width": 10}, {"height": 10}, {"width": 0, "height": 5}):
            response = client.get("/v1/styles", params=params)
            assert response.status_code == 422, params
            assert response.json()["error"]["code"] == "invalid_request"


def test_the_built_in_catalog_groups_the_upscalers_and_promises_real_sizes(app_for, tmp_path):
    """The real catalog and renderer, as bootstrap wires them (upscaler pipelines are not
    built here: they would convert models; the web sees null for a style it cannot size)."""
    catalog = Catalog.load([])
    renderer = Renderer(catalog, EngineCache(), model_dir=tmp_path)

    def size(style: str, width: int, height: int) -> tuple[int, int] | None:
        if catalog.get(style).upscaler is not None:
            return None
        return renderer.output_size(style, width, height)

    with app_for(catalog, size) as client:
        body = client.get("/v1/styles", params={"width": 3000, "height": 2000}).json()
    styles = {s["name"]: s for s in body["styles"]}
    assert styles["oil"]["output_size"] == {"width": 1024, "height": 683}
    assert styles["pencil"]["output_size"] == {"width": 1600, "height": 1067}
    assert styles["oil"]["group"] is None and styles["oil"]["input"] == "photo"
    groups = {n: s["group"] for n, s in styles.items() if s["kind"] == "upscaler"}
    assert len(groups) == 13 and all(g["name"] == "enlarge" for g in groups.values())
    assert groups["waifu2x-photo-2x-noise2"] == {
        "name": "enlarge",
        "scale": 2,
        "content": "photo",
        "denoise": 2,
    }
    assert groups["waifu2x-anime-2x"]["content"] == "drawing"
    assert groups["waifu2x-anime-2x"]["denoise"] is None
    assert groups["realesrgan-animevideov3-4x"] == {
        "name": "enlarge",
        "scale": 4,
        "content": "drawing",
        "denoise": None,
    }


def _bundle(root: Path, name: str, extra: str = "") -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "style.toml").write_text(
        f'name = "{name}"\ntitle = "Cartoon {name}"\ndescription = "Bold lines."\n'
        f'kind = "builtin"\n[builtin]\noperator = "cartoon"\n{extra}',
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def translated(tmp_path: Path) -> Catalog:
    """``toon`` has a Spanish title and description, ``plain`` has none."""
    spanish = '[translations.es]\ntitle = "Dibujos"\ndescription = "Trazos marcados."\n'
    toon, plain = _bundle(tmp_path, "toon", spanish), _bundle(tmp_path, "plain")
    return Catalog([load_bundle(toon), load_bundle(plain)])


@pytest.mark.parametrize("how", ["accept-language", "query", "cookie"])
def test_titles_are_in_the_requests_language(app_for, translated, how: str) -> None:
    with app_for(translated) as client:
        if how == "accept-language":
            response = client.get("/v1/styles", headers={"Accept-Language": "es-ES,en;q=0.5"})
        elif how == "query":
            response = client.get("/v1/styles", params={"lang": "es", "width": 8, "height": 8})
        else:
            client.cookies.set("lang", "es")
            response = client.get("/v1/styles")
    assert response.status_code == 200
    styles = {s["name"]: s for s in response.json()["styles"]}
    assert (styles["toon"]["title"], styles["toon"]["description"]) == (
        "Dibujos",
        "Trazos marcados.",
    )
    # No translation: English.
    assert (styles["plain"]["title"], styles["plain"]["description"]) == (
        "Cartoon plain",
        "Bold lines.",
    )
    vary = {part.strip() for part in response.headers["vary"].split(",")}
    assert {"Accept-Language", "Cookie"} <= vary


def test_titles_are_english_by_default_and_lang_wins(app_for, translated) -> None:
    with app_for(translated) as client:
        default = client.get("/v1/styles").json()["styles"]
        asked = client.get(
            "/v1/styles", params={"lang": "en"}, headers={"Accept-Language": "es"}
        ).json()["styles"]
    for styles in (default, asked):
        assert [s["title"] for s in styles] == ["Cartoon toon", "Cartoon plain"]
