"""The page rests while intake is closed, and the operator page flips the switch: a real
server and Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.browser import open_home
from tests.support.server import ServerProcess

pytestmark = pytest.mark.e2e

TOKEN = "page-operator-token"


@pytest.fixture(scope="module")
def operated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"PIXSERVE_ADMIN_TOKEN": TOKEN}
    proc = ServerProcess(tmp_path_factory.mktemp("resting"), env=env).start()
    try:
        yield proc
    finally:
        assert proc.terminate(), proc.log()


def test_the_page_rests_while_paused_and_the_operator_page_resumes(
    operated: ServerProcess, open_page, shots
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.post(f"{operated.url}/v1/admin/pause", headers=auth).status_code == 200

    w = open_page(locale="es-ES")
    page = w.page
    page.goto(operated.url + "/")  # the styles load, hidden with the form
    resting = page.locator("[data-testid=resting]")
    resting.wait_for(state="visible")
    assert page.locator("#job-form").is_hidden()
    assert "descanso" in page.locator("#resting-text").text_content()
    assert resting.get_attribute("data-reason") == "paused"
    shots(page, "resting-es")

    admin = open_page(locale="en-US")
    admin.page.goto(f"{operated.url}/admin")
    admin.page.fill("#admin-token", TOKEN)
    admin.page.click("#admin-login button[type=submit]")
    admin.page.locator("[data-testid=admin-panel]").wait_for(state="visible")
    assert "paused" in admin.page.locator("[data-testid=admin-intake]").text_content()
    admin.page.click("[data-testid=admin-resume]")
    admin.page.wait_for_function(
        "() => document.querySelector('[data-testid=admin-intake]').textContent === 'open'"
    )
    assert admin.page.locator("#admin-hour-rows tr").count() == 24
    shots(admin.page, "admin")
    admin.assert_clean()

    page.wait_for_timeout(1100)  # each node trusts its read of the switch for a second
    open_home(w, operated.url)
    page.locator("#job-form").wait_for(state="visible")
    assert resting.is_hidden()
    w.assert_clean()
