"""The admin page that enters a year from the State Council's notice, previews it, confirms it."""

import pytest
import time_machine
from django.conf import settings

from tests.tickets.conftest import at, make_ticket
from tickets import workflow
from tickets.calendar_notice import parse
from tickets.models import CalendarDay, CalendarYear, Status, Ticket

URL = "/admin/tickets/calendaryear/enter/"


@pytest.fixture(autouse=True)
def _december():
    with time_machine.travel(at(2026, 12, 2, 10), tick=False):
        yield


def entry(holidays, workdays="", source="国务院办公厅关于2027年部分节假日安排的通知", **extra):
    """The page's POST data: holiday rows (name, first, last) and the make-up days' text."""
    data = {
        "year": "2027",
        "source": source,
        "workdays": workdays,
        "holidays-TOTAL_FORMS": str(len(holidays) + 1),
        "holidays-INITIAL_FORMS": "0",
        "holidays-MIN_NUM_FORMS": "0",
        "holidays-MAX_NUM_FORMS": "30",
        **extra,
    }
    for i, (name, first, last) in enumerate([*holidays, ("", "", "")]):
        data.update({f"holidays-{i}-name": name, f"holidays-{i}-first": first})
        data[f"holidays-{i}-last"] = last
    return data


GOOD = [
    ("元旦", "2027-01-01", "2027-01-03"),
    ("春节", "2027-02-05", "2027-02-11"),
    ("清明节", "2027-04-03", "2027-04-05"),
    ("劳动节", "2027-05-01", "2027-05-05"),
    ("端午节", "2027-06-09", "2027-06-09"),
    ("中秋节", "2027-09-15", "2027-09-15"),
    ("国庆节", "2027-10-01", "2027-10-07"),
]


def test_the_page_shows_the_provisional_year_prefilled_from_the_statutory_holidays(world, client):
    client.force_login(world.handler)  # a member: may look

    page = client.get(URL + "?year=2027").content.decode()

    assert "尚未确认：2027 年的时限暂按法定节假日计算" in page
    assert 'value="春节"' in page and 'value="2027-02-05"' in page and 'value="2027-02-10"' in page
    assert page.count('class="cal-month"') == 12
    assert 'data-date="2027-02-09"' in page  # 补假
    assert '<td class="day-holiday" data-date="2027-02-09"' in page
    assert '<td class="day-rest" data-date="2027-01-09"' in page


def test_a_coordinator_previews_then_confirms_and_provisional_tickets_are_recomputed(world, client):
    ticket = make_ticket(world, Status.SUBMITTED, department=None)
    workflow.route_ticket(ticket_id=ticket.pk, now=at(2026, 12, 30, 9))
    assert Ticket.objects.get(pk=ticket.pk).resolve_due_at == at(2027, 1, 7, 9)
    client.force_login(world.coordinator_user)
    # Monday 4 January off, Saturday 9 January worked instead.
    data = entry(
        [("元旦", "2027-01-01", "2027-01-04"), *GOOD[1:]], workdays="1月9日（周六）、2月20日"
    )

    preview = client.post(URL + "?year=2027", {**data, "preview": "预览"}).content.decode()

    assert 'id="confirm-button"' in preview
    assert '<td class="day-makeup" data-date="2027-01-09"' in preview
    assert '<td class="day-holiday" data-date="2027-01-04"' in preview
    # Off: 4 Jan, 11 Feb, 5 May, 6–7 Oct (the provisional calendar has only the statutory
    # days); worked: 9 Jan, 20 Feb.
    assert "与当前日历相比有 7 天不同" in preview
    assert "确认后将重算 1 件时限暂定的诉求" in preview
    assert not CalendarYear.objects.filter(year=2027).exists()  # a preview saves nothing

    response = client.post(URL + "?year=2027", {**data, "confirm": "确认"}, follow=True)

    page = response.content.decode()
    assert response.redirect_chain == [(URL + "?year=2027", 302)]
    assert "2027 年工作日历已确认。已重算 1 件暂定时限的诉求。" in page
    assert "已确认：国务院办公厅关于2027年部分节假日安排的通知" in page
    stored = CalendarYear.objects.get(year=2027)
    assert stored.confirmed_by == world.coordinator_user
    assert stored.workdays == ["2027-01-09", "2027-02-20"]
    assert CalendarDay.objects.get(date="2027-01-04").is_working is False
    ticket = Ticket.objects.get(pk=ticket.pk)
    # Five working days from Wednesday 30 Dec: 31 Dec, then 5–8 January (the 4th is off now).
    assert (ticket.resolve_due_at, ticket.deadlines_provisional) == (at(2027, 1, 8, 9), False)
    # The confirmed entry comes back for corrections.
    assert 'value="2027-01-04"' in page and "2027-01-09、2027-02-20" in page


def test_members_may_preview_but_not_confirm(world, client):
    client.force_login(world.handler)
    data = entry(GOOD, workdays="2月20日")

    preview = client.post(URL + "?year=2027", {**data, "preview": "预览"}).content.decode()
    assert 'id="confirm-button"' not in preview
    assert "只有统筹协调单位" in preview

    assert client.post(URL + "?year=2027", {**data, "confirm": "确认"}).status_code == 403
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not CalendarDay.objects.filter(date__year=2027).exists()


def test_people_outside_the_departments_cannot_open_the_page(world, client, django_user_model):
    client.force_login(django_user_model.objects.create_user("clerk", is_staff=True))
    assert client.get(URL + "?year=2027").status_code == 403


@pytest.mark.parametrize(
    ("holidays", "workdays", "message"),
    [
        (
            [("元旦", "2026-12-31", "2027-01-02")],
            "",
            "元旦：2026-12-31 至 2027-01-02 不在 2027 年内。",
        ),
        (
            [*GOOD, ("除夕", "2027-02-04", "2027-02-05")],
            "",
            "除夕（02-04 至 02-05） 与 春节（02-05 至 02-11） 的日期重叠。",
        ),
        (GOOD, "2月6日", "调休上班日 2027-02-06 在“春节”放假期间内。"),
        (
            GOOD,
            "2027-02-17",
            "调休上班日 2027-02-17 是星期三，本来就上班；调休上班日只能是周六或周日。",
        ),
        (GOOD, "2月30日", "“2月30日”不是有效日期。"),
        ([("元旦", "2027-01-01", "")], "", "请填写节日名称、放假开始和结束日期（或清空整行）。"),
        ([], "", "请至少录入一项放假安排。"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_saved(world, client, holidays, workdays, message):
    client.force_login(world.coordinator_user)

    response = client.post(URL + "?year=2027", {**entry(holidays, workdays), "confirm": "确认"})

    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert 'id="confirm-button"' not in page
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not CalendarDay.objects.filter(date__year=2027).exists()


def test_the_year_list_links_the_page_and_names_the_unconfirmed_year(world, client):
    client.force_login(world.handler)

    page = client.get("/admin/tickets/calendaryear/").content.decode()

    assert f'href="{URL}"' in page and "录入年度日历" in page
    assert f'href="{URL}?year=2027">2027 年（暂定）' in page
    assert f'href="{URL}?year=2026">查看 / 更正' in page


def test_single_days_are_corrected_not_added_in_the_day_list(world, client):
    client.force_login(world.coordinator_user)
    assert client.get("/admin/tickets/calendarday/add/").status_code == 403
    assert client.get("/admin/tickets/calendarday/").status_code == 200


def test_a_confirmed_year_with_lost_days_is_shown_and_can_be_repaired(world, client):
    from tickets.models import CalendarDay as Day

    Day.objects.filter(date__year=2026, date__month=10).delete()
    client.force_login(world.coordinator_user)

    page = client.get(URL + "?year=2026").content.decode()
    assert page.count('class="cal-month"') == 12 and "（缺失）" in page

    fixture = (settings.BASE_DIR / "fixtures" / "calendar_2026.txt").read_text(encoding="utf-8")
    schedule = parse(fixture, 2026)
    data = entry(
        [(h.name, h.first.isoformat(), h.last.isoformat()) for h in schedule.holidays],
        "、".join(d.isoformat() for d in schedule.workdays),
    )
    data["year"] = "2026"
    response = client.post(URL + "?year=2026", {**data, "confirm": "确认"})
    assert response.status_code == 302
    assert Day.objects.filter(date__year=2026).count() == 365
    assert Day.objects.get(date="2026-10-10").is_working is True
