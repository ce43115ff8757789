"""The Content-Security-Policy of the staff faces (admin, dashboard, API docs) in a real
browser: every page still works — the ticket's action form, the language switch, the
calendar's year switch, the dashboard's charts, Swagger UI — and Chromium reports no
violation (no inline script is left that the policy would block)."""

import json

import pytest
from django.urls import reverse

from tests.browser import log_in
from tests.factories import UserFactory
from tests.tickets import conftest as tickets_conftest
from tests.tickets.conftest import make_ticket
from tickets.models import Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

world = tickets_conftest.world

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__csp.push(event.violatedDirective + " " + (event.blockedURI || "inline")
    + " " + (event.sourceFile || "") + ":" + (event.lineNumber || ""));
});
"""


@pytest.fixture
def admin_user(world):
    user = UserFactory(username="admin", is_staff=True, is_superuser=True)
    user.set_password("s3cret-pass")
    user.save(update_fields=["password"])
    return user


def _open(page, url):
    response = page.goto(url)
    assert response.status == 200, url
    page.wait_for_load_state("load")
    return response


def test_admin_dashboard_and_docs_work_under_the_policy(
    world, admin_user, live_server, browser_page, screenshot
):
    ticket = make_ticket(world, Status.ASSIGNED)
    page = browser_page(1366, 900)
    page.add_init_script(RECORD_VIOLATIONS)
    log_in(page, live_server.url, "admin", "s3cret-pass")
    page.wait_for_selector("#dashboard-link")
    violations = []

    index = _open(page, f"{live_server.url}/admin/")
    policy = index.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'"  # no inline script, no eval
    assert directives["object-src"] == "'none'"
    violations += page.evaluate("window.__csp")
    screenshot(page, "admin-index")

    # The ticket page shows the fields of the chosen action (a static script).
    _open(page, f"{live_server.url}{reverse('admin:tickets_ticket_change', args=[ticket.pk])}")
    specs = json.loads(page.text_content("#ticket-action-fields"))
    action, fields = next((a, f) for a, f in specs.items() if f)
    page.select_option("#ticket-action-form select[name=action]", action)
    assert page.is_visible(f"#ticket-action-form [data-field={fields[0]['name']}]")
    violations += page.evaluate("window.__csp")

    # The language switch in the header still switches (a static script).
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    with page.expect_navigation():
        page.select_option("#language-select", "zh-hans")
    violations += page.evaluate("window.__csp")

    # The calendar page's year select still switches years (a static script).
    _open(page, f"{live_server.url}{reverse('admin:tickets_calendaryear_enter')}?year=2026")
    with page.expect_navigation():
        page.select_option("select[name=year]", "2027")
    assert page.url.endswith("year=2027")
    violations += page.evaluate("window.__csp")
    screenshot(page, "calendar")

    _open(page, f"{live_server.url}/admin/dashboard/")
    page.wait_for_selector("#headline")
    assert page.locator("svg.gauge").count() == 4
    violations += page.evaluate("window.__csp")
    screenshot(page, "dashboard")

    # Swagger UI starts from its own script URL, loads the schema and lists the operations.
    docs = _open(page, f"{live_server.url}/api/docs/")
    assert "content-security-policy" in docs.headers
    page.wait_for_selector(".opblock-summary", timeout=30_000)
    assert page.locator(".opblock").count() >= 22
    violations += page.evaluate("window.__csp")
    screenshot(page, "docs")

    assert violations == []


def test_other_pages_are_left_without_the_policy(world, client):
    assert "Content-Security-Policy" not in client.get("/healthz")
    assert "Content-Security-Policy" in client.get("/admin/login/")
    assert "Content-Security-Policy" in client.get("/api/v1/tickets/")
