"""The dashboard in a real browser (Debian's Chromium driven by Playwright)."""

import datetime as dt

import pytest
import time_machine

from tests.browser import log_in
from tests.factories import UserFactory
from tests.reports.showcase import build_showcase

pytestmark = pytest.mark.browser
# The showcase spreads 900 tickets over the 360 days before "now" and the dashboard's default
# period is the last 12 calendar months: late in a month all 900 fall inside it. Pinned, so
# the test does not depend on the day it runs.
NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def showcase(transactional_db):
    with time_machine.travel(NOW, tick=True):
        build_showcase()
        user = UserFactory(username="admin", is_staff=True, is_superuser=True)
        user.set_password("s3cret-pass")
        user.save(update_fields=["password"])
        yield


def test_dashboard_renders_headline_and_charts(live_server, showcase, browser_page, screenshot):
    page = browser_page(1440, 900)
    log_in(page, live_server.url, "admin", "s3cret-pass")
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

    path = screenshot(page, "dashboard")
    assert path.stat().st_size > 50_000
