"""A real browser for end-to-end tests: Debian's Chromium, driven by Playwright.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium`` (or
``$PIXSERVE_CHROMIUM``). The fixtures are registered in ``tests/e2e/conftest.py``:

- ``browser``: one Chromium per test module (skips when there is none);
- ``open_page``: a factory of :class:`PageWatch` pages, each in a fresh browser context
  (viewport, touch, locale, cookies as asked), closed after the test;
- ``shots``: numbered full-page screenshots of each step, under
  ``$PIXSERVE_SCREENSHOTS/<test name>/`` or the test's own tmp dir.
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("PIXSERVE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
DESKTOP = {"width": 1100, "height": 900}
PHONE = {"width": 360, "height": 740}
RESULT_TIMEOUT_MS = 90_000

# Playwright does not see the bodies of uploads built from Blobs, so each page keeps a copy of
# every FormData it sends (fetch or XMLHttpRequest) in window.__forms, for PageWatch.forms.
RECORD_FORMS = """
(() => {
  window.__forms = [];
  const keep = (url, body) => {
    if (!(body instanceof FormData)) return;
    const entry = { url: new URL(String(url), location.href).pathname, fields: {}, done: false };
    window.__forms.push(entry);
    (async () => {
      for (const [name, value] of body.entries()) {
        if (value instanceof Blob) {
          const bytes = new Uint8Array(await value.arrayBuffer());
          let text = "";
          for (let i = 0; i < bytes.length; i += 0x8000) {
            text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
          }
          entry.fields[name] = { b64: btoa(text), type: value.type };
        } else {
          entry.fields[name] = { text: value };
        }
      }
      entry.done = true;
    })();
  };
  const open = XMLHttpRequest.prototype.open;
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    this.__url = url;
    return open.call(this, method, url, ...rest);
  };
  XMLHttpRequest.prototype.send = function (body) {
    keep(this.__url, body);
    return send.call(this, body);
  };
  const fetch = window.fetch;
  window.fetch = function (input, init) {
    if (init && init.body) keep(typeof input === "string" ? input : input.url, init.body);
    return fetch.apply(this, arguments);
  };
})();
"""


# Every Content-Security-Policy violation, told on the console in words a test can find
# (Chromium says "Refused to …" itself too; this also names the directive and the URL).
REPORT_CSP = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`Content Security Policy violation: ${e.violatedDirective} blocked ` +
    `${e.blockedURI || "inline"} at ${e.sourceFile || location.href}:${e.lineNumber}`);
});
"""
CSP_MARK = "Content Security Policy"


class PageWatch:
    """A page plus every request it made and every error it reported."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.requests: list[Any] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        #: What the app's Content-Security-Policy refused; any one fails the test.
        self.csp_violations: list[str] = []
        page.on("request", lambda r: self.requests.append(r))
        page.on("console", self._on_console)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))

    def _on_console(self, msg: Any) -> None:
        if CSP_MARK in msg.text:
            self.csp_violations.append(f"{msg.text} @ {msg.location}")
        if msg.type == "error":
            self.console_errors.append(f"{msg.text} @ {msg.location}")

    @property
    def urls(self) -> list[str]:
        return [r.url for r in self.requests]

    def foreign_requests(self) -> list[str]:
        """Requests that left this machine (blob:, data: and about: URLs never do)."""
        foreign = []
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme in ("blob", "data", "about"):
                continue
            if parts.hostname not in LOCAL_HOSTS:
                foreign.append(url)
        return foreign

    def forms(self, path: str) -> list[dict[str, bytes | str]]:
        """Every form the page sent to ``path``, oldest first: field → text, or bytes for files."""
        self.page.wait_for_function("() => window.__forms.every(f => f.done)")
        forms = []
        for entry in self.page.evaluate("() => window.__forms"):
            if entry["url"] != path:
                continue
            fields: dict[str, bytes | str] = {}
            for name, value in entry["fields"].items():
                fields[name] = base64.b64decode(value["b64"]) if "b64" in value else value["text"]
            forms.append(fields)
        return forms

    def assert_clean(self, *, allow_console: tuple[str, ...] = ()) -> None:
        """No request left the host, no uncaught error, no unexpected console error, and
        nothing refused by the Content-Security-Policy."""
        assert self.foreign_requests() == []
        assert self.csp_violations == []
        assert self.page_errors == []
        unexpected = [e for e in self.console_errors if not any(a in e for a in allow_console)]
        assert unexpected == []


class Shots:
    """Numbered screenshots of a test's steps in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, page: Any, name: str, *, full_page: bool = True) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=path, full_page=full_page)
        return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, for the whole module."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., PageWatch]]:
    """``open_page(**context_options)``: a watched page in a new context (phone: ``phone=True``).

    After the test, any Content-Security-Policy violation on any of its pages fails it.
    """

    def make(*, phone: bool = False, **options: Any) -> PageWatch:
        if phone:
            options = {
                "viewport": PHONE,
                "device_scale_factor": 2,
                "is_mobile": True,
                "has_touch": True,
                **options,
            }
        options.setdefault("viewport", DESKTOP)
        options.setdefault("reduced_motion", "reduce")  # no smooth scrolling under the mouse
        context = browser.new_context(**options)
        context.add_init_script(RECORD_FORMS)
        context.add_init_script(REPORT_CSP)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        watch = PageWatch(page)
        watches.append(watch)
        return watch

    contexts: list[Any] = []
    watches: list[PageWatch] = []
    yield make
    for context in contexts:
        context.close()
    # Every page of every test runs under the app's CSP: a refusal fails the test even
    # where the test does not call assert_clean.
    violations = [v for w in watches for v in w.csp_violations]
    assert violations == [], "\n".join(violations)


@pytest.fixture
def shots(request: pytest.FixtureRequest, tmp_path: Path) -> Shots:
    """Screenshots of each step: ``$PIXSERVE_SCREENSHOTS/<test>/`` or ``<tmp>/screenshots``."""
    root = os.environ.get("PIXSERVE_SCREENSHOTS")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    return Shots(Path(root) / name if root else tmp_path / "screenshots")


# ---------- the page ----------


def open_home(w: PageWatch, base: str, path: str = "/") -> None:
    """Load the page and wait until the style gallery is drawn."""
    w.page.goto(base + path)
    w.page.locator("#styles input[name=style]").first.wait_for(state="attached")
    w.page.locator(".style-card").first.wait_for(state="visible")


def choose_photo(w: PageWatch, path: Path) -> None:
    """Choose ``path`` and wait until the crop box is up and the face search has answered."""
    page = w.page
    page.set_input_files("#file-input", str(path))
    page.locator("#crop-stage[data-ready=true] .cropper-crop-box").wait_for(state="visible")
    page.wait_for_function(
        """() => {
            const note = document.querySelector('#crop-note').textContent;
            return note && !note.endsWith('…');
        }"""
    )


_CROP_BOX_JS = """() => {
    const img = document.querySelector('#crop-image');
    const canvas = document.querySelector('.cropper-canvas').getBoundingClientRect();
    const box = document.querySelector('.cropper-crop-box').getBoundingClientRect();
    const scale = img.naturalWidth / canvas.width;
    return {
        x: (box.left - canvas.left) * scale, y: (box.top - canvas.top) * scale,
        w: box.width * scale, h: box.height * scale,
        naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
    };
}"""


def crop_box(w: PageWatch, *, settle_ms: int = 150, timeout_ms: int = 5_000) -> dict[str, float]:
    """The crop box as drawn, in the pixels of the image in the crop area (x, y, w, h).

    Read once it holds still: Cropper.js redraws the box after a layout change (a scrollbar
    appearing as the page grows), and a read in the middle of that sees a passing state.
    """
    last = w.page.evaluate(_CROP_BOX_JS)
    for _ in range(max(1, timeout_ms // settle_ms)):
        w.page.wait_for_timeout(settle_ms)
        now = w.page.evaluate(_CROP_BOX_JS)
        if all(abs(now[k] - last[k]) < 0.5 for k in ("x", "y", "w", "h")):
            return dict(now)
        last = now
    return dict(last)


def pick_style(w: PageWatch, name: str) -> None:
    """Click the card of style ``name`` (not an upscaler: those sit in the Enlarge card)."""
    w.page.click(f'.style-card[data-style="{name}"]')
    assert w.page.locator(f'.style-card[data-style="{name}"] input[name=style]').is_checked()


def record_status(w: PageWatch) -> None:
    """Keep every text the status and time lines show, in ``window.__statusLog``."""
    w.page.evaluate(
        """() => {
            window.__statusLog = [];
            const log = () => {
                const line = document.querySelector('#status').textContent;
                const eta = document.querySelector('#eta');
                const entry = line + (eta.hidden ? '' : ' | ' + eta.textContent);
                if (window.__statusLog.at(-1) !== entry) window.__statusLog.push(entry);
            };
            for (const id of ['status', 'eta']) {
                new MutationObserver(log).observe(document.getElementById(id),
                    {childList: true, characterData: true, subtree: true, attributes: true});
            }
        }"""
    )


def status_log(w: PageWatch) -> list[str]:
    return list(w.page.evaluate("() => window.__statusLog || []"))


def wait_for_result(w: PageWatch) -> None:
    """Wait until the picture is shown (or an error is), and fail on an error."""
    page = w.page
    page.wait_for_function(
        """() => {
            const img = document.querySelector('#result-image');
            const err = document.querySelector('#error');
            return (img && !img.hidden && img.complete && img.naturalWidth > 0)
                || (err && !err.hidden);
        }""",
        timeout=RESULT_TIMEOUT_MS,
    )
    error = page.locator("#error")
    code = error.get_attribute("data-code")
    assert error.is_hidden(), f"the job failed: {code}: {error.text_content()}"
    assert page.locator("#result-image").is_visible()


def touch_drag(
    page: Any, start: tuple[float, float], end: tuple[float, float], steps: int = 8
) -> None:
    """A finger drag from ``start`` to ``end`` (CSS pixels), as real touch events."""
    cdp = page.context.new_cdp_session(page)
    (x0, y0), (x1, y1) = start, end

    def touch(kind: str, points: list[dict[str, float]]) -> None:
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", [{"x": x0, "y": y0}])
    for i in range(1, steps + 1):
        touch("touchMove", [{"x": x0 + (x1 - x0) * i / steps, "y": y0 + (y1 - y0) * i / steps}])
    touch("touchEnd", [])
    cdp.detach()


def astronaut_jpeg(path: Path, *, scale: int = 1) -> Path:
    """skimage's astronaut (512×512, one face) as a JPEG, ``scale`` times larger."""
    from PIL import Image
    from skimage import data

    image = Image.fromarray(data.astronaut())
    if scale != 1:
        image = image.resize((512 * scale, 512 * scale), Image.Resampling.LANCZOS)
    image.save(path, "JPEG", quality=90)
    return path


def image_of(data: bytes) -> Any:
    """A PIL image of ``data`` (decoded fully)."""
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    return image
