"""The dashboard in a real browser (Debian's Chromium driven by Playwright)."""

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.conf import settings

from tests.factories import UserFactory
from tests.reports.showcase import build_showcase

OUTPUT = Path(settings.BASE_DIR) / "test-output" / "reports"
# The showcase spreads 900 tickets over the 360 days before "now" and the dashboard's default
# period is the last 12 calendar months: late in a month all 900 fall inside it. Pinned, so
# the test does not depend on the day it runs.
NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

pytestmark = pytest.mark.browser


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def showcase(clock, transactional_db):
    # Before the browser starts: Playwright's sync API runs an event loop in this thread,
    # and Django refuses ORM calls while one runs.
    build_showcase()
    user = UserFactory(username="admin", is_staff=True, is_superuser=True)
    user.set_password("s3cret-pass")
    user.save(update_fields=["password"])


def test_dashboard_renders_headline_and_charts(live_server, showcase, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page.set_default_timeout(15_000)
    requests = []
    page.on("request", lambda request: requests.append(request.url))

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "s3cret-pass")
    page.click("input[type=submit]")
    with page.expect_response(f"{live_server.url}/admin/dashboard/") as response:
        page.click("text=办理成效看板")
    assert response.value.status == 200
    page.wait_for_selector("#headline")

    assert page.url == f"{live_server.url}/admin/dashboard/"
    headline = page.inner_text("#headline")
    assert headline.startswith("本期受理企业诉求900件，需市级层面解决的问题")
    assert "（目标90%）" in headline
    counts = page.evaluate(
        """() => Object.fromEntries(['trend-chart', 'department-chart', 'donut-chart'].map(
            name => [name, document.querySelectorAll(
                `svg.${name} rect, svg.${name} path, svg.${name} polyline`).length]))"""
    )
    assert counts["trend-chart"] >= 13  # 12–13 monthly bars and the rate line
    assert counts["department-chart"] >= 9 * 2  # a track and a bar per department
    assert counts["donut-chart"] == 4  # one segment per list
    # Drawn, not just present: the charts have a size on the page.
    for name in ("trend-chart", "department-chart", "donut-chart"):
        box = page.locator(f"svg.{name}").bounding_box()
        assert box["width"] > 150 and box["height"] > 150
    # Every rate card carries a verdict; those under target are red and marked.
    below = page.locator(".rate-card.below")
    assert below.count() + page.locator(".rate-card.met").count() == 4
    for i in range(below.count()):
        assert below.nth(i).locator(".badge").inner_text() == "▼ 低于目标"
        colour = below.nth(i).evaluate("card => getComputedStyle(card).borderTopColor")
        assert colour == "rgb(198, 40, 40)"
    # Offline: nothing but the live server was asked for.
    assert all(url.startswith(live_server.url) for url in requests)

    OUTPUT.mkdir(parents=True, exist_ok=True)
    screenshot = OUTPUT / "dashboard.png"
    page.screenshot(path=str(screenshot), full_page=True)
    page.screenshot(path=str(OUTPUT / "dashboard-top.png"))  # the first screen, full size
    print(f"dashboard screenshot: {screenshot}")  # noqa: T201 (where to look)
    assert screenshot.stat().st_size > 50_000
