"""The portal in Debian's Chromium, at desktop (1366×768) and phone (375×812) size.

An enterprise signs in, submits one need of each of the four lists (the form sent twice at
once, then its button double-clicked: one ticket each), and sees them routed by a real Celery
worker on Redis; after a handler resolves one, it reads the reply, rates it 2 and reopens it;
then it confirms another and rates it 5. Screenshots: test-output/test_portal_browser/<test>/.

The worker and the live server share a ticking 2026 clock (tests/api/test_end_to_end.py's
clocked worker). Chromium keeps the real clock, so the session and CSRF cookies are made
to last as long as the browser (their expiry dates would otherwise be judged in real time).
"""

import re
import time

import pytest
import time_machine

from enterprises.models import Department
from tests.api import test_end_to_end as e2e
from tests.broker import wait_for
from tests.browser import log_in
from tests.factories import enterprise_user, staff_user
from tickets import categories, workflow
from tickets.models import Kind, Status, Ticket

pytestmark = [pytest.mark.broker, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

reference = e2e.reference  # the reference data and 威海拓展纤维有限公司 in the carbon-fibre chain
clocked_worker = e2e.clocked_worker
PASSWORD = "Weihai-portal-2026"
SECRET = "内部：等待领导批示"
NEEDS = {
    Kind.DIFFICULTY: {"category": "permit", "title": "新厂房施工许可"},
    Kind.TECHNOLOGY: {"category": "new_materials", "title": "碳纤维预浸料工艺"},
    Kind.FUNDING: {"category": "loan", "title": "流动资金贷款", "amount": "300"},
    Kind.SUPPLY_CHAIN: {"category": "supplier", "title": "寻找树脂供应商"},
}


@pytest.fixture(autouse=True)
def _pinned_clock(settings):
    e2e.CLOCK["anchor"] = time.time()
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    settings.CSRF_COOKIE_AGE = None
    with time_machine.travel(e2e.START, tick=True):
        yield


@pytest.fixture
def enterprise(reference):
    company, _chain = reference
    user = enterprise_user(company, username="tuozhan")
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return company


DOUBLE_SEND = """async () => {
  const form = document.getElementById("submit-form");
  const send = () => fetch(location.href, {method: "POST", body: new FormData(form)});
  const responses = await Promise.all([send(), send()]);
  return responses.map((response) => response.url);
}"""


def _submit(page, base, kind, need):
    page.goto(f"{base}/portal/submit/")
    with page.expect_navigation():
        page.click(f"a[href='/portal/submit/{kind}/']")
    template = categories.description_template(kind, need["category"])
    page.select_option("#id_category", need["category"])
    # The vendored script filled the category's template in (defined in tickets/categories.py).
    assert page.input_value("#id_description") == template
    page.fill("#id_title", need["title"])
    if "amount" in need:
        page.fill("#id_amount", need["amount"])
    page.fill("#id_description", template + "\n（企业补充）" + need["title"])
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    # Chromium does not always send a double-clicked form twice (the second click may land
    # once the page is unloading); a flaky connection or an impatient person on a phone can
    # still get the same form to the server twice at once. So first the page's
    # own form data goes twice in parallel (its cookies, CSRF token and key), then the
    # double click: three submissions of one rendering of the form, one ticket.
    landed = page.evaluate(DOUBLE_SEND)
    # Not expect_navigation: when the second click does send, it aborts the first navigation.
    page.dblclick("#submit-button")
    page.wait_for_url(re.compile(r".*/portal/tickets/\d+/$"))
    page.wait_for_load_state()
    assert len(posts) >= 3, posts
    assert landed[0] == landed[1] == page.url


def _act(page, slug, **fields):
    if page.get_attribute(f"#action-{slug}", "open") is None:
        page.click(f"#action-{slug} summary")
    for selector, value in fields.items():
        if value is True:
            page.check(selector)
        else:
            page.fill(selector, value)
    with page.expect_navigation():
        page.click(f"#action-{slug} button[type=submit]")


def _fits(page, width: int) -> None:
    """Nothing on the page is wider than the screen (no sideways scrolling on a phone)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def _handle(ticket: Ticket, reply: str):
    """The department accepts and resolves, as its staff would in the admin."""
    department = Department.objects.get(pk=ticket.department_id)
    handler = staff_user(department, username=f"handler-{department.pk}")
    workflow.accept_ticket(ticket_id=ticket.pk, actor=handler, note=SECRET)
    workflow.resolve_ticket(
        ticket_id=ticket.pk, actor=handler, outcome="solved", reply=reply, note=SECRET
    )


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (375, 812)], ids=["desktop", "phone"])
def test_an_enterprise_submits_follows_rates_and_reopens(
    live_server, enterprise, clocked_worker, browser_page, screenshot, width, height
):
    base = live_server.url
    page = browser_page(width=width, height=height)

    def shot(name):
        _fits(page, width)
        screenshot(page, name)

    page.goto(f"{base}/portal/login/")
    shot("00-login")
    log_in(page, base, "tuozhan", PASSWORD, path="/portal/login/")
    page.wait_for_url(f"{base}/portal/")
    shot("01-signed-in")

    for kind, need in NEEDS.items():
        _submit(page, base, kind, need)
        # On the new ticket's page (which of the three submissions answered does not matter).
        assert page.inner_text("#ticket-title") == need["title"]
        if kind == Kind.FUNDING:
            shot("02-submitted-funding")
    # One ticket per need, double click or not.
    assert sorted(Ticket.objects.values_list("kind", flat=True)) == sorted(NEEDS)
    assert Ticket.objects.filter(submitted_by__username="tuozhan").count() == 4

    wait_for(
        lambda: not Ticket.objects.filter(status=Status.SUBMITTED).exists(),
        timeout=60,
        message="the worker to route the four tickets",
    )
    page.goto(f"{base}/portal/")
    tickets = {t.kind: t for t in Ticket.objects.select_related("department")}
    for ticket in tickets.values():
        row = page.locator(f"li[data-number='{ticket.number}']")
        assert row.locator(".badge").first.inner_text() == "已分派"
        assert row.locator(".department").inner_text() == ticket.department.name
        assert "签收 " in row.inner_text()
    shot("03-routed")

    # A handler resolves the difficulty need; the enterprise reads the reply, is unhappy.
    first = tickets[Kind.DIFFICULTY]
    _handle(first, "已协调行政审批服务局，施工许可已受理，预计5个工作日内办结。")
    page.goto(f"{base}/portal/tickets/{first.pk}/")
    assert page.inner_text("#ticket-status") == "已办结"
    assert "施工许可已受理" in page.inner_text("#ticket-answer")
    assert SECRET not in page.content() and "handler-" not in page.content()
    shot("04-resolved")
    _act(page, "rate", **{"#id_rate-score_1": True, "#id_rate-note": "进度太慢"})
    assert page.is_visible("#offer-reopen")
    shot("05-rated-2-offers-reopen")
    _act(page, "reopen", **{"#id_reopen-reason": "施工许可仍未办结，请继续协调。"})
    assert page.inner_text("#ticket-status") == "办理中"
    assert "施工许可仍未办结" in page.inner_text("#timeline")
    shot("06-reopened")
    first.refresh_from_db()
    assert (first.status, first.satisfaction, first.reopen_count) == (Status.IN_PROGRESS, 2, 1)

    # Another one is resolved; this time the enterprise confirms it and is satisfied.
    second = tickets[Kind.TECHNOLOGY]
    _handle(second, "已对接碳纤维研究院，联合攻关协议已签订。")
    page.goto(f"{base}/portal/tickets/{second.pk}/")
    _act(page, "confirm", **{"#id_confirm-note": "问题已解决，谢谢。"})
    assert page.inner_text("#ticket-status") == "已关闭"
    _act(page, "rate", **{"#id_rate-score_4": True, "#id_rate-note": "非常满意"})
    assert page.inner_text("#ticket-satisfaction") == "5 / 5"
    assert not page.is_visible("#offer-reopen")
    shot("07-confirmed-rated-5")
    second.refresh_from_db()
    assert (second.status, second.satisfaction) == (Status.CLOSED, 5)

    # The other pages fit the screen too.
    page.goto(f"{base}/portal/submit/")
    shot("09-choose-a-list")
    page.goto(f"{base}/portal/submit/funding/")
    shot("10-funding-form")
    page.goto(f"{base}/portal/profile/")
    assert page.input_value("#id_contact_email") == enterprise.contact_email
    shot("11-profile")

    # The list after all that, and the English switch.
    page.goto(f"{base}/portal/?kind=technology")
    assert page.locator("li[data-number]").count() == 1
    with page.expect_navigation():
        page.click("footer button[value=en]")
    assert page.get_attribute("html", "lang") == "en"
    shot("08-english")
