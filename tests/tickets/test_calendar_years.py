"""Provisional calendar years: deadlines keep flowing past the last confirmed year, marked 暂定,
and are recomputed when staff confirm the year; staff are warned and alerted until they do."""

import datetime as dt
import importlib

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model

from tests.api.conftest import client_for
from tests.tickets.conftest import at, make_ticket
from tickets import calendar_store, effects, escalation, tasks, workflow
from tickets.calendar import CalendarMissing
from tickets.calendar_notice import ScheduleError, parse
from tickets.models import CalendarDay, CalendarYear, Status, Ticket
from tickets.sla import load_sla

# A made-up 2027 schedule (the real notice is not out yet) with a make-up working Saturday in
# January, so that confirming it moves January deadlines.
NOTICE_2027 = """
# 2027年部分节假日安排（测试用）
元旦：1月1日至3日
春节：2月5日至2月11日
清明节：4月3日至5日
劳动节：5月1日至5日
端午节：6月9日
中秋节：9月15日
国庆节：10月1日至7日
上班：1月9日（周六）、2月20日（周六）、10月9日（周六）
"""


def confirm_2027(world, **kwargs):
    return calendar_store.confirm_year(
        parse(NOTICE_2027, 2027), source="国务院办公厅通知（测试）", by=world.coordinator_user
    )


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


# --- the provisional calendar --------------------------------------------------------------


def test_years_after_the_confirmed_ones_are_provisional_statutory_holidays_only(world):
    calendar = load_sla(fresh=True).calendar

    assert calendar.years == frozenset({2024, 2025, 2026})
    assert {2027, 2028, 2100} <= calendar.provisional_years
    assert 2101 not in calendar.provisional_years
    # 春节 2027: 除夕 Friday 5 Feb to Monday 8 Feb, the Saturday and Sunday given back (补假)
    # on Tuesday 9 and Wednesday 10 Feb, as the law has it.
    for day in range(5, 11):
        assert not calendar.is_working_day(dt.date(2027, 2, day))
    assert calendar.is_working_day(dt.date(2027, 2, 11))
    # No 调休 is known yet: every 2027 weekend is a rest day, every other weekday works.
    weekend_worked = [
        d
        for d in (dt.date(2027, 1, 1) + dt.timedelta(days=i) for i in range(365))
        if d.weekday() >= 5 and calendar.is_working_day(d)
    ]
    assert weekend_worked == []
    assert calendar.is_provisional(at(2027, 1, 4, 9))
    assert not calendar.is_provisional(at(2026, 12, 31, 23, 59))


def test_a_year_before_the_first_confirmed_one_is_still_missing(world):
    with pytest.raises(CalendarMissing) as missing:
        load_sla(fresh=True).calendar.add_working_days(at(2024, 1, 3, 9), -5)
    assert missing.value.year == 2023


def test_a_confirmed_year_whose_days_are_gone_is_missing_not_provisional(world):
    CalendarDay.objects.filter(date__year=2026, date__month=12).delete()

    with pytest.raises(CalendarMissing) as missing:
        load_sla(fresh=True).calendar.add_working_days(at(2026, 6, 3, 9), 1)
    assert missing.value.year == 2026


def test_confirmed_years_keep_their_deadlines_and_are_not_marked(world):
    ticket = make_ticket(world, Status.SUBMITTED, department=None)

    routed = workflow.route_ticket(ticket_id=ticket.pk, now=at(2026, 6, 3, 9))

    assert (routed.accept_due_at, routed.resolve_due_at) == (at(2026, 6, 4, 9), at(2026, 6, 10, 9))
    assert fresh(ticket).deadlines_provisional is False


# --- the year end ---------------------------------------------------------------------------


def test_year_end_routing_and_escalation_are_provisional_until_the_year_is_confirmed(world, client):
    waiting = make_ticket(world, Status.SUBMITTED, department=None, now=at(2026, 12, 28, 9))
    handled = make_ticket(world, Status.SUBMITTED, department=None, now=at(2026, 12, 28, 9))

    with time_machine.travel(at(2026, 12, 28, 9), tick=False):
        workflow.route_ticket(ticket_id=waiting.pk)
        workflow.route_ticket(ticket_id=handled.pk)
        workflow.accept_ticket(ticket_id=handled.pk, actor=world.handler)
    routed = fresh(waiting)
    # Monday 28 Dec: accept by Tuesday; five working days end on Tuesday 5 January 2027, the
    # provisional calendar skipping 元旦 (Friday 1 January) and the weekend.
    assert (routed.accept_due_at, routed.resolve_due_at) == (at(2026, 12, 29, 9), at(2027, 1, 5, 9))
    assert routed.deadlines_provisional is True
    assert fresh(handled).deadlines_provisional is True

    # Not signed for: a reminder on the 29th, escalation to the city tier on the 30th.
    with time_machine.travel(at(2026, 12, 29, 9), tick=False):
        assert dict(escalation.escalate_overdue(notify=False).counts) == {"remind": 1}
    with time_machine.travel(at(2026, 12, 30, 9), tick=False):
        assert dict(escalation.escalate_overdue(notify=False).counts) == {"escalate": 1}
    escalated = fresh(waiting)
    assert (escalated.level, escalated.department_id) == ("city", world.city.pk)
    # Ten working days from Wednesday 30 Dec: 31 Dec, then 4–8 and 11–14 January.
    assert (escalated.accept_due_at, escalated.resolve_due_at) == (
        at(2026, 12, 31, 9),
        at(2027, 1, 14, 9),
    )
    assert escalated.deadlines_provisional is True

    # The mark is in the API's ticket JSON …
    with time_machine.travel(at(2026, 12, 30, 10), tick=False):
        api = client_for(world.coordinator_user)
        assert api.get(f"/api/v1/tickets/{waiting.pk}/").json()["deadlines_provisional"] is True
        listed = {row["id"]: row for row in api.get("/api/v1/tickets/").json()["results"]}
        assert listed[waiting.pk]["deadlines_provisional"] is True
        # … and in the admin, on the list and on the ticket's page.
        client.force_login(world.coordinator_user)
        page = client.get("/admin/tickets/ticket/").content.decode()
        assert page.count('<span class="provisional"') == 2
        page = client.get(f"/admin/tickets/ticket/{waiting.pk}/change/").content.decode()
        assert "时限暂定" in page
        field = page.split("field-deadlines_provisional", 1)[1].split('class="help"')[0]
        assert "时限暂定" in field and 'alt="True"' in field

    # Staff confirm 2027 with Saturday 9 January a working day.
    with time_machine.travel(at(2026, 12, 30, 11), tick=False):
        confirmation = confirm_2027(world)
    assert (confirmation.year, confirmation.corrected, confirmation.recomputed) == (2027, False, 2)
    escalated = fresh(waiting)
    # 31 Dec, 4–8 January, Saturday 9, 11–13: one working day more, a day earlier.
    assert (escalated.accept_due_at, escalated.resolve_due_at, escalated.escalate_at) == (
        at(2026, 12, 31, 9),
        at(2027, 1, 13, 9),
        at(2026, 12, 31, 9),
    )
    assert escalated.deadlines_provisional is False
    handled = fresh(handled)
    assert handled.resolve_due_at == at(2027, 1, 5, 9)  # before the 9th: unchanged …
    assert handled.escalate_at == at(2027, 1, 4, 9)  # … yellow card a working day before
    assert handled.deadlines_provisional is False  # … and no longer provisional
    with time_machine.travel(at(2026, 12, 30, 12), tick=False):
        api = client_for(world.coordinator_user)
        assert api.get(f"/api/v1/tickets/{waiting.pk}/").json()["deadlines_provisional"] is False


def test_closing_or_withdrawing_a_provisional_ticket_clears_the_mark(world):
    ticket = make_ticket(world, Status.SUBMITTED, department=None)
    workflow.route_ticket(ticket_id=ticket.pk, now=at(2026, 12, 28, 9))
    assert fresh(ticket).deadlines_provisional is True

    workflow.withdraw_ticket(ticket_id=ticket.pk, actor=world.owner, now=at(2026, 12, 28, 10))

    assert fresh(ticket).deadlines_provisional is False


def test_an_auto_close_in_a_provisional_year_is_marked_and_cleared_by_the_sweep(world):
    ticket = make_ticket(world, Status.IN_PROGRESS, now=at(2026, 12, 21, 9))
    workflow.resolve_ticket(
        ticket_id=ticket.pk,
        actor=world.handler,
        outcome="solved",
        reply="已解决。",
        now=at(2026, 12, 30, 10),
    )
    resolved = fresh(ticket)
    assert resolved.escalate_at == at(2027, 1, 7, 10)  # five working days, 元旦 skipped
    assert resolved.deadlines_provisional is True

    assert dict(escalation.escalate_overdue(now=at(2027, 1, 7, 10), notify=False).counts) == {
        "auto_close": 1
    }
    closed = fresh(ticket)
    assert (closed.status, closed.deadlines_provisional) == (Status.CLOSED, False)


def test_a_wrong_schedule_is_refused_and_nothing_is_saved(world):
    text = NOTICE_2027.replace("上班：1月9日", "上班：1月6日")  # a Wednesday
    with pytest.raises(ScheduleError, match="星期三"):
        parse(text, 2027)
    bad = parse(NOTICE_2027, 2027)
    bad = type(bad)(2027, bad.holidays, (*bad.workdays, dt.date(2027, 2, 6)))
    with pytest.raises(ScheduleError, match="春节"):
        calendar_store.confirm_year(bad, source="x")
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not CalendarDay.objects.filter(date__year=2027).exists()


def test_confirming_stores_the_days_and_the_notice(world):
    confirm_2027(world)

    stored = CalendarYear.objects.get(year=2027)
    assert stored.confirmed_by == world.coordinator_user
    assert stored.source == "国务院办公厅通知（测试）"
    assert stored.workdays == ["2027-01-09", "2027-02-20", "2027-10-09"]
    assert stored.holidays[1] == {"name": "春节", "first": "2027-02-05", "last": "2027-02-11"}
    assert CalendarDay.objects.filter(date__year=2027).count() == 365
    assert CalendarDay.objects.get(date="2027-01-09").is_working is True
    assert CalendarDay.objects.get(date="2027-02-11").name == "春节"
    calendar = load_sla().calendar  # the cache was invalidated
    assert 2027 in calendar.years and 2027 not in calendar.provisional_years


def test_correcting_a_confirmed_year_recomputes_every_open_ticket(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    published = []
    monkeypatch.setattr(effects, "publish", lambda name, *args: published.append(name))
    confirm_2027(world)
    assert published == []
    with django_capture_on_commit_callbacks(execute=True):
        assert confirm_2027(world).corrected is True
    assert published == ["tickets.recompute_deadlines"]


def test_the_watch_recomputes_what_a_stale_process_marked_after_confirmation(world):
    ticket = make_ticket(world, Status.SUBMITTED, department=None)
    workflow.route_ticket(ticket_id=ticket.pk, now=at(2026, 12, 30, 9))
    confirm_2027(world)
    # Another process, its calendar cached from before the confirmation, routes a ticket.
    Ticket.objects.filter(pk=ticket.pk).update(
        resolve_due_at=at(2027, 1, 8, 9), deadlines_provisional=True
    )

    assert calendar_store.watch_calendar(now=at(2026, 12, 30, 9, 30)) == {
        "recomputed": 1,
        "alerts": 0,
    }
    ticket = fresh(ticket)
    assert (ticket.resolve_due_at, ticket.deadlines_provisional) == (at(2027, 1, 7, 9), False)
    # Still provisional tickets (deadlines in an unconfirmed year) are left alone.
    assert calendar_store.refresh_provisional_deadlines() == 0


# --- warnings and alerts --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(2026, 10, 31, 23, 59), []),
        (at(2026, 11, 1, 0, 0), [2027]),
        (at(2026, 12, 31, 12), [2027]),
    ],
)
def test_next_year_needs_confirming_from_the_first_of_november(world, now, expected):
    assert calendar_store.unconfirmed_years(now) == expected


def test_this_year_needs_confirming_whenever_it_is_not(world):
    assert calendar_store.unconfirmed_years(at(2027, 3, 1, 9)) == [2027]
    confirm_2027(world)
    assert calendar_store.unconfirmed_years(at(2027, 3, 1, 9)) == []
    assert calendar_store.unconfirmed_years(at(2027, 11, 1, 9)) == [2028]


WARNING = 'id="calendar-warning"'
LINK = 'href="/admin/tickets/calendaryear/enter/?year=2027"'


@pytest.mark.parametrize("url", ["/admin/", "/admin/dashboard/"])
def test_the_admin_index_and_the_dashboard_warn_from_the_first_of_november(world, client, url):
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(superuser)

    with time_machine.travel(at(2026, 10, 31, 18), tick=False):
        page = client.get(url).content.decode()
    assert WARNING not in page

    with time_machine.travel(at(2026, 11, 1, 9), tick=False):
        page = client.get(url).content.decode()
    assert WARNING in page and LINK in page
    assert "2027 年工作日历尚未确认" in page

    confirm_2027(world)
    with time_machine.travel(at(2026, 11, 2, 9), tick=False):
        page = client.get(url).content.decode()
    assert WARNING not in page


def test_staff_get_one_alert_a_day_until_the_year_is_confirmed(world, mailoutbox, settings):
    settings.STAFF_ALERT_EMAILS = ["ops@weihai.example"]
    watch = calendar_store.watch_calendar

    assert watch(now=at(2026, 10, 31, 9))["alerts"] == 0  # not yet the season
    assert watch(now=at(2026, 11, 1, 7, 7))["alerts"] == 0  # not before 08:00
    assert watch(now=at(2026, 11, 1, 8, 7))["alerts"] == 1
    assert watch(now=at(2026, 11, 1, 15, 7))["alerts"] == 0  # once a day
    assert len(mailoutbox) == 1
    alert = mailoutbox[0]
    assert alert.subject == "【企业诉求直通车】2027 年工作日历尚未确认，相关时限为暂定"
    assert set(alert.to) == {"ops@weihai.example", world.coordinator.email}
    assert "load_calendar 2027" in alert.body
    assert watch(now=at(2026, 11, 2, 8, 7))["alerts"] == 1  # the next day again
    assert len(mailoutbox) == 2

    confirm_2027(world)
    assert watch(now=at(2026, 11, 3, 8, 7))["alerts"] == 0
    assert len(mailoutbox) == 2


def test_the_calendar_watch_is_a_beat_entry_with_a_task(world):
    entry = settings.CELERY_BEAT_SCHEDULE["calendar-watch"]
    assert entry["task"] == "tickets.watch_calendar" == tasks.watch_calendar.name
    assert entry["options"]["expires"] < 3600  # hourly: a missed tick is superseded
    assert tasks.watch_calendar.acks_late is True
    assert tasks.watch_calendar("2026-10-31T09:00:00+08:00") == {"recomputed": 0, "alerts": 0}


# --- seeding and the data migration ---------------------------------------------------------


def test_seeding_confirms_the_official_years(world):
    assert set(CalendarYear.objects.values_list("year", flat=True)) == {2024, 2025, 2026}
    assert CalendarYear.objects.get(year=2026).workdays == [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ]


def test_the_migration_confirms_every_year_the_calendar_covered(world):
    migration = importlib.import_module("tickets.migrations.0014_confirm_existing_calendar_years")
    CalendarYear.objects.all().delete()
    CalendarDay.objects.bulk_create(  # half of 2027, entered by hand: not coverage
        CalendarDay(date=dt.date(2027, 1, 1) + dt.timedelta(days=i), is_working=True)
        for i in range(100)
    )

    migration.confirm_complete_years(apps, None)

    assert dict(CalendarYear.objects.values_list("year", "source")) == {
        2024: calendar_store.OFFICIAL_SOURCE,
        2025: calendar_store.OFFICIAL_SOURCE,
        2026: calendar_store.OFFICIAL_SOURCE,
    }
    assert "2026-02-14" in CalendarYear.objects.get(year=2026).workdays
