"""The staff workbench in Debian's Chromium at 1366×768, from a logged-out browser: a handler's
day (queue → overdue ticket → accept with a note → resolve with an outcome and a reply), a
coordinator's re-dispatch, a bulk accept, an action that is not offered, and the page in English.
"""

import datetime as dt
import re

import pytest
import time_machine

from tests.browser import log_in
from tests.tickets.conftest import T0, at, make_ticket
from tickets.models import Status, Ticket

pytestmark = pytest.mark.browser

PASSWORD = "s3cret-pass"
# Monday after T0 (Wednesday 3 June 2026): a ticket assigned at T0 missed its 签收 deadline
# (Thursday 09:00) by two working days and an hour: three started working days.
NOW = at(2026, 6, 8, 10, 0)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def desk(world, clock, transactional_db):
    for user in (world.handler, world.coordinator_user, world.leader_user):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    world.enterprise.contact_name = "王经理"
    world.enterprise.contact_phone = "0631-5800000"
    world.enterprise.save(update_fields=["contact_name", "contact_phone"])
    return world


def _select2(page, row_selector: str, search: str, choice: str):
    """Pick `choice` in the admin's autocomplete (select2) inside `row_selector`."""
    page.click(f"{row_selector} .select2-selection")
    page.fill(".select2-container--open .select2-search__field", search)
    page.click(f".select2-results__option:has-text('{choice}')")


def _fits_the_screen(page):
    """Every column of the list, the last (department) included, is inside 1366 pixels."""
    for column in ("number", "short_title", "deadline_now", "overdue_days", "department"):
        box = page.locator(f"#result_list thead th.column-{column}").bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1366, (column, box)


def _timeline(page) -> list[str]:
    return page.locator("#ticket-timeline tbody tr").all_inner_texts()


def test_a_handler_accepts_and_resolves_an_overdue_ticket(
    live_server, desk, browser_page, screenshot
):
    overdue = make_ticket(desk, Status.ASSIGNED, now=T0, title="用电增容审批")
    make_ticket(desk, Status.IN_PROGRESS, now=NOW - dt.timedelta(hours=1), title="新厂房环评")
    make_ticket(desk, Status.ASSIGNED, department=desk.other_city, title="别的单位的诉求")
    page = browser_page()
    log_in(page, live_server.url, "local-handler", PASSWORD)

    # The start page counts the queue and links it.
    start = page.locator(".start-counts").first
    assert "待签收" in start.inner_text()
    assert start.locator(".start-overdue strong").inner_text() == "1"
    screenshot(page, "1-start-page")
    start.locator(".start-overdue a").click()
    page.wait_for_selector("#result_list")
    assert "queue=mine" in page.url and "overdue=yes" in page.url

    # The queue: my open tickets, most urgent first, with the deadline that matters now.
    page.goto(f"{live_server.url}/admin/tickets/ticket/")
    page.wait_for_selector("#result_list")
    assert "queue=mine" in page.url
    rows = page.locator("#result_list tbody tr").all_inner_texts()
    assert len(rows) == 2 and "别的单位的诉求" not in " ".join(rows)
    assert overdue.number in rows[0] and "签收 06-04 09:00" in rows[0]
    assert page.locator("#result_list tbody tr").first.locator(".overdue-days").inner_text() == "3"
    _fits_the_screen(page)
    screenshot(page, "2-queue")

    page.click(f"text={overdue.number}")
    banner = page.locator("#overdue-banner")
    assert "签收时限" in banner.inner_text() and "3 个工作日" in banner.inner_text()
    assert "尚未列入督办" in banner.inner_text()
    assert "王经理" in page.inner_text("#enterprise-panel")
    assert page.locator("input[name=_save]").count() == 0
    screenshot(page, "3-overdue-ticket")

    # Accept with an internal note: only the accept fields are shown.
    page.select_option("#ticket-action-form select[name=action]", "accept")
    assert page.is_visible("#ticket-action-form textarea[name=note]")
    assert not page.is_visible("#ticket-action-form select[name=outcome]")
    page.fill("#ticket-action-form textarea[name=note]", "已联系供电公司，明日现场勘查。")
    page.click("#ticket-action-submit")
    page.wait_for_selector(".messagelist .success")
    assert "签收 已完成" in page.inner_text(".messagelist")
    screenshot(page, "4-accepted")

    # Resolve with an outcome and a reply to the enterprise.
    page.select_option("#ticket-action-form select[name=action]", "resolve")
    assert not page.is_visible("#ticket-action-form textarea[name=reason]")
    page.select_option("#ticket-action-form select[name=outcome]", "solved")
    page.fill("#ticket-action-form textarea[name=reply]", "增容已批复，本周内送电。")
    page.click("#ticket-action-submit")
    page.wait_for_selector(".messagelist .success")
    assert "办结 已完成" in page.inner_text(".messagelist")
    timeline = _timeline(page)
    assert any("签收" in row and "已联系供电公司，明日现场勘查。" in row for row in timeline)
    assert any("办结" in row and "增容已批复，本周内送电。" in row for row in timeline)
    # Local times only: the accept row carries today's Shanghai time, nothing in UTC.
    assert any(row.startswith("2026-06-08 10:") for row in timeline), timeline
    assert "UTC" not in page.inner_text("#ticket-timeline")
    screenshot(page, "5-resolved-timeline")
    overdue.refresh_from_db()
    assert overdue.status == Status.RESOLVED and overdue.outcome == "solved"
    assert list(overdue.events.filter(action="accept").values_list("note", flat=True)) == [
        "已联系供电公司，明日现场勘查。"
    ]


def test_a_coordinator_redispatches_a_returned_ticket(live_server, desk, browser_page, screenshot):
    returned = make_ticket(desk, Status.RETURNED, title="被退回的诉求")
    page = browser_page()
    log_in(page, live_server.url, "coordinator", PASSWORD)
    start = page.locator(".start-counts").last
    assert "退回待派" in start.inner_text()
    start.locator(".start-returned a").click()
    page.wait_for_selector("#result_list")
    page.click(f"text={returned.number}")

    page.select_option("#ticket-action-form select[name=action]", "dispatch")
    _select2(page, "#ticket-action-form .field-department", "科学技术", "市科学技术局")
    page.fill("#ticket-action-form textarea[name=note]", "属科技口，改派市科技局。")
    screenshot(page, "1-choosing-department")
    page.click("#ticket-action-submit")
    page.wait_for_selector(".messagelist .success")
    assert "分派 已完成" in page.inner_text(".messagelist")
    assert any("市科学技术局" in row for row in _timeline(page))
    screenshot(page, "2-dispatched")
    returned.refresh_from_db()
    assert returned.status == Status.ASSIGNED and returned.department_id == desk.other_city.pk


def test_a_bulk_accept_of_three_tickets(live_server, desk, browser_page, screenshot):
    tickets = [make_ticket(desk, Status.ASSIGNED, now=NOW) for _ in range(3)]
    page = browser_page()
    log_in(page, live_server.url, "local-handler", PASSWORD)
    page.goto(f"{live_server.url}/admin/tickets/ticket/")
    page.wait_for_selector("#result_list")
    for ticket in tickets:
        page.check(f"#result_list input.action-select[value='{ticket.pk}']")
    page.select_option("select[name=action]", "accept_selected")
    # The department chooser belongs to the dispatch action only.
    assert not page.is_visible("#changelist-form .select2")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist .success")
    message = page.inner_text(".messagelist")
    assert "已签收 3 件" in message and all(t.number in message for t in tickets)
    screenshot(page, "bulk-accepted")
    assert set(Ticket.objects.values_list("status", flat=True)) == {Status.IN_PROGRESS}


def test_an_action_that_is_not_allowed_is_not_offered(live_server, desk, browser_page, screenshot):
    ticket = make_ticket(desk, Status.IN_PROGRESS, now=NOW)
    page = browser_page()
    log_in(page, live_server.url, "local-handler", PASSWORD)
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    offered = page.locator("#ticket-action-form select[name=action] option").evaluate_all(
        "options => options.map(o => o.value)"
    )
    # In progress, for its handler: work on it, never sign for it again, dispatch or confirm.
    assert {"resolve", "hold"} <= set(offered)
    assert not {"accept", "dispatch", "confirm", "rate"} & set(offered)
    screenshot(page, "offered-actions")
    # A leader on a ticket under handling: nothing to do, and it says so.
    page = browser_page()
    log_in(page, live_server.url, "leader-user", PASSWORD)
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    assert page.locator("#ticket-action-form select[name=action]").count() == 0
    assert "没有您可执行的操作" in page.inner_text("#ticket-actions")
    screenshot(page, "leader-nothing-offered")


CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


def test_switching_to_english_leaves_no_chinese_on_the_ticket_page(
    live_server, desk, browser_page, screenshot, monkeypatch
):
    # Data in English too, so that any Chinese left on the page is a project string.
    monkeypatch.setattr("tests.tickets.conftest.SETUP_NOTE", "(set up)")
    departments = (
        desk.local,
        desk.city,
        desk.leader,
        desk.coordinator,
        desk.other_city,
        desk.chief,
    )
    for department in departments:
        department.name = f"Department {department.pk}"
        department.save(update_fields=["name"])
    desk.chain.name = "Medical devices"
    desk.chain.save(update_fields=["name"])
    desk.district.name = "Wendeng"
    desk.district.save(update_fields=["name"])
    desk.enterprise.name = "Weihai Example Co."
    desk.enterprise.contact_name = "Mr Wang"
    desk.enterprise.save(update_fields=["name", "contact_name"])
    ticket = make_ticket(
        desk,
        Status.ASSIGNED,
        now=T0,
        title="Power capacity approval",
        description="The new plant needs more power.",
        category="energy",
        supervised=True,
    )
    make_ticket(desk, Status.IN_PROGRESS, now=NOW, title="Another open need")
    page = browser_page()
    log_in(page, live_server.url, "local-handler", PASSWORD)
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    page.select_option("#language-select", "en")
    page.wait_for_load_state("load")
    page.wait_for_selector("html[lang=en]")
    assert "Overdue" in page.inner_text("#overdue-banner")
    body = page.locator("body").evaluate(
        "body => { const copy = body.cloneNode(true);"
        " copy.querySelectorAll('#language-switch, script, style').forEach(e => e.remove());"
        " return copy.innerText; }"
    )
    leftovers = sorted({line.strip() for line in body.splitlines() if CJK.search(line)})
    screenshot(page, "ticket-in-english")
    assert not leftovers, leftovers
    # The list and the start page too.
    for path in ("/admin/", "/admin/tickets/ticket/?queue=mine"):
        page.goto(f"{live_server.url}{path}")
        text = page.locator("#content").inner_text()
        assert not {line for line in text.splitlines() if CJK.search(line)}, (path, text)
    _fits_the_screen(page)
    screenshot(page, "list-in-english")
