"""Entering next year's calendar in a real browser: a coordinator types the State Council's
notice into the admin page, previews the 12-month calendar and confirms it."""

import pytest
import time_machine

from enterprises.models import Department
from tests.browser import log_in
from tests.factories import CityDepartmentFactory, DistrictFactory, EnterpriseFactory, staff_user
from tests.tickets.conftest import at
from tickets.calendar_store import invalidate, seed_from_holidays
from tickets.models import Status, Ticket
from tickets.sla import load_sla

pytestmark = pytest.mark.browser


@pytest.fixture
def clock():
    with time_machine.travel(at(2026, 12, 30, 9), tick=True):
        yield


@pytest.fixture
def year_end(clock, transactional_db):
    """Before the browser starts (no ORM while Playwright's loop runs): the 2024–2026
    calendar, a coordinator, and a ticket assigned on 30 December with a deadline in 2027."""
    invalidate()
    seed_from_holidays()
    office = CityDepartmentFactory(
        code="service-centre",
        name="市企业服务中心",
        kind=Department.Kind.SERVICE_CENTRE,
        is_coordinator=True,
    )
    user = staff_user(office, role="coordinator", username="coordinator")
    user.set_password("s3cret-pass")
    user.save(update_fields=["password"])
    # As routing on 30 December leaves it, but without events: SQLite cannot flush the
    # append-only event table after a test that commits (PostgreSQL truncates it).
    now = at(2026, 12, 30, 9)
    sla = load_sla(fresh=True)
    accept_due, resolve_due = sla.assignment_deadlines("difficulty", "city", now)
    ticket = Ticket(
        number="WH-2026-000001",
        enterprise=EnterpriseFactory(district=DistrictFactory()),
        kind="difficulty",
        title="用电增容审批",
        description="新厂房用电增容需要协调。",
        status=Status.ASSIGNED,
        department=office,
        level="city",
        assigned_at=now,
        clock_started_at=now,
        accept_due_at=accept_due,
        resolve_due_at=resolve_due,
    )
    sla.schedule(ticket)
    ticket.deadlines_provisional = sla.provisional(ticket)
    ticket.save()
    assert resolve_due == at(2027, 1, 14, 9) and ticket.deadlines_provisional
    yield ticket
    invalidate()


def test_a_coordinator_enters_previews_and_confirms_2027(
    live_server, year_end, browser_page, screenshot
):
    page = browser_page()
    log_in(page, live_server.url, "coordinator", "s3cret-pass")

    # The admin index warns that 2027 is provisional and links the page.
    warning = page.locator("#calendar-warning")
    assert "2027 年工作日历尚未确认" in warning.inner_text()
    warning.locator("a").click()
    page.wait_for_selector("#calendar-entry")
    assert "尚未确认" in page.inner_text("#year-status")
    # Pre-filled with the statutory holidays; the notice makes some longer and adds 调休.
    assert page.input_value("#id_holidays-0-name") == "元旦"
    page.fill("#id_holidays-0-last", "2027-01-04")  # Monday 4 January off …
    page.fill("#id_holidays-1-last", "2027-02-11")
    page.fill("#id_holidays-6-last", "2027-10-07")
    page.fill("#id_workdays", "1月9日（周六）、2月20日（周六）")  # … worked on Saturday the 9th
    page.fill("#id_source", "国务院办公厅关于2027年部分节假日安排的通知（测试）")
    page.click("#preview-button")

    page.wait_for_selector("#confirm-button")
    assert "预览" in page.inner_text("#calendar-preview h2")
    assert "与当前日历相比有 6 天不同" in page.inner_text("#calendar-changes")
    kinds = {
        day: page.get_attribute(f'td[data-date="{day}"]', "class")
        for day in ("2027-01-04", "2027-01-09", "2027-01-10", "2027-01-11")
    }
    assert kinds == {
        "2027-01-04": "day-holiday",
        "2027-01-09": "day-makeup",
        "2027-01-10": "day-rest",
        "2027-01-11": "day-working",
    }
    # Visibly different: four background colours.
    colours = {
        page.eval_on_selector(
            f'td[data-date="{day}"]', "td => getComputedStyle(td).backgroundColor"
        )
        for day in kinds
    }
    assert len(colours) == 4
    preview = screenshot(page, "calendar-preview")
    # The whole year fits beside the form on a 1366-wide screen, without scrolling sideways.
    months = page.locator(".cal-month")
    assert months.count() == 12
    assert months.nth(11).bounding_box()["x"] + months.nth(11).bounding_box()["width"] <= 1366
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366

    page.click("#confirm-button")
    page.wait_for_selector(".messagelist .success")
    assert "2027 年工作日历已确认。已重算 1 件暂定时限的诉求。" in page.inner_text(".messagelist")
    assert "已确认：国务院办公厅关于2027年部分节假日安排的通知（测试）" in page.inner_text(
        "#year-status"
    )
    assert page.get_attribute('td[data-date="2027-01-09"]', "class") == "day-makeup"
    screenshot(page, "calendar-confirmed")
    assert preview.stat().st_size > 30_000

    # The result: no warning any more, and the ticket's deadlines are no longer provisional.
    page.goto(f"{live_server.url}/admin/")
    assert page.locator("#calendar-warning").count() == 0
    page.goto(f"{live_server.url}/admin/tickets/ticket/")
    assert page.locator("#result_list .provisional").count() == 0
    assert page.locator("#result_list tbody tr").count() == 1
