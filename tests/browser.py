"""Fixtures for tests that click through pages in Debian's Chromium (Playwright).

    @pytest.mark.browser
    def test_something(live_server, browser_page, screenshot):
        page = browser_page()                       # 1366×768, zh-CN, logged out
        page.goto(f"{live_server.url}/admin/")
        ...
        screenshot(page, "after-accept")            # test-output/<module>/<test>/after-accept.png

`browser_page(width=375, height=812)` gives a phone-sized page. Every page fails the test if
it asked for anything but the live server (no CDN: the city's network is closed), and if the
page logged a JavaScript error.

The ORM may be used while the browser runs (Playwright's sync API keeps an event loop in the
test's thread, which Django would otherwise refuse): the test thread is the only one using
its connection while the live server serves from its own.
"""

import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
OUTPUT = Path(settings.BASE_DIR) / "test-output"


@pytest.fixture(scope="session")
def _chromium():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(_chromium, live_server):
    """A factory of fresh, logged-out pages (each its own browser context)."""
    contexts, problems = [], []

    def new_page(width: int = 1366, height: int = 768, locale: str = "zh-CN"):
        context = _chromium.new_context(viewport={"width": width, "height": height}, locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)

        def outside(request):
            if not request.url.startswith((live_server.url, "data:", "blob:", "about:")):
                problems.append(f"asked for {request.url}")

        page.on("request", outside)
        page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
        return page

    yield new_page
    for context in contexts:
        context.close()
    assert not problems, problems


@pytest.fixture
def screenshot(request):
    """screenshot(page, name): a full-page PNG under test-output/<module>/<test>/."""
    module = request.node.module.__name__.rsplit(".", 1)[-1]
    folder = OUTPUT / module / re.sub(r"[^\w.-]+", "_", request.node.name)

    def take(page, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def log_in(page, base_url: str, username: str, password: str, *, path: str = "/admin/login/"):
    """Fill and submit a Django login form (admin or portal) as a person would."""
    page.goto(f"{base_url}{path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("[type=submit]")
