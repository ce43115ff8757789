"""The working calendar as stored in the database: confirmed years, provisional years, alerts.

A year is **confirmed** when it has a CalendarYear row (staff entered the State Council's
notice in the admin or with `manage.py load_calendar`, or it came from the official schedule
the `holidays` package carries, ≤ 2026 at the time of writing) and its 365/366 CalendarDay
rows. Confirmed years behave exactly as the calendar always did.

Every later year the `holidays` package can produce is **provisional**: its statutory holidays
(《全国年节及纪念日放假办法》), with no 调休 make-up working days, because those are only known
from the notice. The package's "observed" days count as holidays: they are the law's own 补假
(a statutory holiday on a Saturday or Sunday is given back on a working day), not a 调休 swap,
and every official schedule so far contains them. Deadlines computed in a
provisional year are marked 暂定 (Ticket.deadlines_provisional) and recomputed when the year
is confirmed (confirm_year → refresh_provisional_deadlines). Only a year before the first
confirmed one, a confirmed year whose days are incomplete, or one the package cannot produce
still raises CalendarMissing, as before.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import time
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets import effects
from tickets.calendar import WorkCalendar, days_from_holidays
from tickets.calendar_notice import Schedule
from tickets.models import CalendarDay, CalendarYear, Status, Ticket

logger = logging.getLogger(__name__)

# Each process keeps the calendar in memory; edits in the admin reach other processes within
# this many seconds (and the editing process at once, see invalidate()).
CACHE_SECONDS = 60
# From this day of the year (month, day) staff are warned while next year is unconfirmed:
# the State Council's notice usually appears in November or December.
WARN_FROM = (11, 1)
# The daily alert goes out at the first calendar watch from this local hour (not at 00:05).
ALERT_FROM_HOUR = 8
OFFICIAL_SOURCE = "holidays 包收录的国务院办公厅节假日安排"

_lock = threading.Lock()
_cached: tuple[float, WorkCalendar] | None = None


# --- what the holidays package knows -------------------------------------------------------


def official_years() -> list[int]:
    """Years for which the `holidays` package carries the State Council's 调休 schedule.

    The package also "knows" later years, but only their statutory dates, without the
    make-up working days: those years are provisional until staff confirm them.
    """
    from holidays.countries.china import ChinaStaticHolidays

    return sorted(ChinaStaticHolidays.special_public_holidays)


def package_range() -> range:
    from holidays.countries.china import China

    return range(China.start_year, China.end_year + 1)


@functools.lru_cache(maxsize=256)
def package_holidays(year: int) -> tuple[dict[dt.date, str], frozenset[dt.date]]:
    """({date: name} of the year's holidays, make-up working days) as the package has them;
    ({}, ∅) for a year it cannot produce. The make-up days exist only for official years."""
    import holidays

    if year not in package_range():
        return {}, frozenset()
    china = holidays.China(years=[year], language="zh_CN")
    named = {day: str(name) for day, name in china.items() if day.year == year}
    return named, frozenset(d for d in china.weekend_workdays if d.year == year)


@functools.lru_cache(maxsize=8)
def _provisional_days(first: int, last: int, confirmed: frozenset[int]) -> dict[dt.date, bool]:
    days: dict[dt.date, bool] = {}
    for year in range(first, last + 1):
        if year in confirmed:
            # Confirmed years come from their stored days only: one whose days are incomplete
            # is a fault to report (CalendarMissing), not a year to guess.
            continue
        named, workdays = package_holidays(year)
        if named:  # every Chinese year has 元旦: none means the package cannot produce it
            days.update(days_from_holidays([year], named, workdays))
    return days


# --- loading -------------------------------------------------------------------------------


def load_calendar(*, fresh: bool = False) -> WorkCalendar:
    global _cached
    now = time.monotonic()
    with _lock:
        if not fresh and _cached is not None and now - _cached[0] < CACHE_SECONDS:
            return _cached[1]
    confirmed = set(CalendarYear.objects.values_list("year", flat=True))
    days = {
        day: working
        for day, working in CalendarDay.objects.values_list("date", "is_working")
        if day.year in confirmed
    }
    provisional = {}
    if confirmed:
        # After the first confirmed year only: nothing computes deadlines in the past.
        package = package_range()
        provisional = _provisional_days(
            max(min(confirmed), package.start), package.stop - 1, frozenset(confirmed)
        )
    calendar = WorkCalendar(days, provisional)
    with _lock:
        _cached = (now, calendar)
    return calendar


def invalidate() -> None:
    global _cached
    with _lock:
        _cached = None


def covered_years() -> list[int]:
    return sorted(load_calendar().years)


def year_is_complete(year: int) -> bool:
    count = CalendarDay.objects.filter(date__year=year).count()
    return count == (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days


def year_days(year: int) -> dict[dt.date, tuple[bool, str]]:
    """{date: (is working, name)} as the calendar uses it: the stored days of a confirmed year,
    the package's statutory holidays of a provisional one."""
    if CalendarYear.objects.filter(year=year).exists():
        stored = {
            day: (working, name)
            for day, working, name in CalendarDay.objects.filter(date__year=year).values_list(
                "date", "is_working", "name"
            )
        }
        # A confirmed year with days missing (deleted by hand) is shown, not refused: the
        # page that shows it is where it gets repaired.
        missing = _("（缺失）")
        return {
            day: stored.get(day) or (day.weekday() < 5, missing)
            for day in days_from_holidays([year], {}, ())
        }
    named, workdays = package_holidays(year)
    return {
        day: (working, _("调休上班") if day in workdays else named.get(day, ""))
        for day, working in days_from_holidays([year], named, workdays).items()
    }


# --- seeding and confirming -----------------------------------------------------------------


def seed_from_holidays(first_year: int = 2024) -> dict[int, int]:
    """Insert the official calendar for every year from first_year the package covers, and
    confirm those years (their schedule is the State Council's).

    Existing rows are left alone (staff may have corrected a day in the admin).
    Returns {year: rows added}.
    """
    years = [y for y in official_years() if y >= first_year]
    existing = set(CalendarDay.objects.filter(date__year__in=years).values_list("date", flat=True))
    added: dict[int, int] = {y: 0 for y in years}
    rows = []
    for year in years:
        named, workdays = package_holidays(year)
        for day, working in days_from_holidays([year], named, workdays).items():
            if day in existing:
                continue
            name = named.get(day, "") if not working else ("调休上班" if day in workdays else "")
            rows.append(CalendarDay(date=day, is_working=working, name=name[:60]))
            added[year] += 1
    with transaction.atomic():
        CalendarDay.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        confirmed = set(CalendarYear.objects.filter(year__in=years).values_list("year", flat=True))
        CalendarYear.objects.bulk_create(
            [
                CalendarYear(
                    year=year,
                    source=OFFICIAL_SOURCE,
                    workdays=sorted(d.isoformat() for d in package_holidays(year)[1]),
                )
                for year in years
                if year not in confirmed
            ],
            ignore_conflicts=True,
        )
    invalidate()
    return added


@dataclass(frozen=True)
class Confirmation:
    year: int
    corrected: bool  # the year was confirmed before: every open ticket is recomputed
    recomputed: int  # tickets whose provisional deadlines were recomputed now


def confirm_year(
    schedule: Schedule, *, source: str, by=None, now: dt.datetime | None = None
) -> Confirmation:
    """Store a year's schedule as its days, confirm the year, and recompute the deadlines
    that were provisional. Raises ScheduleError (nothing saved) if the schedule is wrong."""
    schedule.check()
    source = (source or "").strip()[:200] or _("%(year)s年节假日安排") % {"year": schedule.year}
    holidays, workdays = schedule.as_json()
    with transaction.atomic():
        corrected = CalendarYear.objects.filter(year=schedule.year).exists()
        CalendarDay.objects.bulk_create(
            [
                CalendarDay(date=day, is_working=working, name=name[:60])
                for day, (working, name) in schedule.days().items()
            ],
            update_conflicts=True,
            unique_fields=["date"],
            update_fields=["is_working", "name", "updated_at"],
        )
        CalendarYear.objects.update_or_create(
            year=schedule.year,
            defaults={
                "source": source,
                "holidays": holidays,
                "workdays": workdays,
                "confirmed_at": now or timezone.now(),
                "confirmed_by": by if getattr(by, "pk", None) else None,
            },
        )
        # Other processes' cached calendars follow within CACHE_SECONDS; a ticket one of them
        # marks provisional meanwhile is recomputed by the next calendar watch.
        transaction.on_commit(invalidate)
    invalidate()
    recomputed = refresh_provisional_deadlines()
    if corrected:
        # A confirmed year changed: any open ticket's deadline may move, as after a day's
        # correction in the admin (tickets.admin.CalendarDayAdmin).
        effects.publish_on_commit("tickets.recompute_deadlines")
    logger.info(
        "calendar %s confirmed (%s); %s tickets recomputed", schedule.year, source, recomputed
    )
    return Confirmation(schedule.year, corrected, recomputed)


def refresh_provisional_deadlines() -> int:
    """Recompute the tickets marked provisional whose deadlines no longer touch a provisional
    year (the year was confirmed). Returns how many were recomputed."""
    from tickets.sla import load_sla, recompute_deadlines

    flagged = Ticket.objects.filter(deadlines_provisional=True)
    # Only open tickets carry live deadlines (the workflow clears the mark on the others).
    recomputable = [Status.ASSIGNED, Status.IN_PROGRESS, Status.ON_HOLD, Status.RESOLVED]
    flagged.exclude(status__in=recomputable).update(deadlines_provisional=False)
    sla = load_sla(fresh=True)
    stale = [
        ticket.pk
        for ticket in flagged.only("status", "accept_due_at", "resolve_due_at", "escalate_at")
        if not sla.provisional(ticket)
    ]
    if not stale:
        return 0
    return recompute_deadlines(queryset=Ticket.objects.filter(pk__in=stale))


# --- warnings and alerts --------------------------------------------------------------------


def unconfirmed_years(now: dt.datetime | None = None) -> list[int]:
    """The years staff must confirm now: this year if it is not confirmed, and next year from
    WARN_FROM (1 November) on."""
    today = timezone.localdate(now or timezone.now())
    years = [today.year]
    if (today.month, today.day) >= WARN_FROM:
        years.append(today.year + 1)
    # One primary-key probe (not the cached calendar): the pages showing the warning cost the
    # same number of queries whatever the cache holds.
    confirmed = set(CalendarYear.objects.filter(year__in=years).values_list("year", flat=True))
    return [year for year in years if year not in confirmed]


def provisional_message(year: int) -> str:
    return _(
        "%(year)s 年工作日历尚未确认：落在 %(year)s 年的办理时限暂按法定节假日计算（不含调休），"
        "标为“暂定”。国务院办公厅公布 %(year)s 年节假日安排后，请录入并确认，系统将自动重算。"
    ) % {"year": year}


def send_provisional_alerts(now: dt.datetime | None = None) -> int:
    """The daily email to staff while a year is unconfirmed: once per year and local day."""
    from tickets import notifications

    now = now or timezone.now()
    today = timezone.localdate(now)
    sent = 0
    provisional = Ticket.objects.filter(deadlines_provisional=True).count()
    for year in unconfirmed_years(now):
        how = _(
            "目前有 %(count)s 件诉求的时限为暂定。录入入口：管理后台 → 企业诉求 → 年度工作日历"
            " → 录入年度日历；或运行 manage.py load_calendar %(year)s 文件 --confirm。"
        ) % {"count": provisional, "year": year}
        body = provisional_message(year) + "\n\n" + how
        sent += notifications.alert_staff(
            f"calendar-provisional:{year}:{today.isoformat()}",
            _("%(year)s 年工作日历尚未确认，相关时限为暂定") % {"year": year},
            body,
        )
    return sent


def watch_calendar(now: dt.datetime | None = None) -> dict:
    """The periodic calendar watch (beat, hourly): recompute what a confirmation left
    provisional, and from ALERT_FROM_HOUR send the day's alert while a year is unconfirmed."""
    now = now or timezone.now()
    recomputed = refresh_provisional_deadlines()
    alerts = 0
    if timezone.localtime(now).hour >= ALERT_FROM_HOUR:
        alerts = send_provisional_alerts(now)
    return {"recomputed": recomputed, "alerts": alerts}


def alert_calendar_missing(year: int, *, now: dt.datetime) -> None:
    """Tell staff (once per year and local day) that a deadline needs a year the calendar
    cannot cover even provisionally; the workflow and the escalation sweep call this."""
    effects.publish(
        effects.ALERT_STAFF,
        f"calendar-missing:{year}:{timezone.localdate(now).isoformat()}",
        _("工作日历缺少 %(year)s 年数据") % {"year": year},
        _(
            "系统在计算办理时限时发现工作日历缺少 %(year)s 年的数据：该年既未确认，也无法按"
            "法定节假日暂定（早于已确认的第一年、已确认但日期不全，或超出 holidays 包的范围）。"
            "相关诉求暂时无法分派或推进，升级巡检将在1小时后重试。请在管理后台“年度工作日历”中"
            "录入并确认 %(year)s 年的节假日安排，或运行 load_reference_data。"
        )
        % {"year": year},
    )
