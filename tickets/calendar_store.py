"""The working calendar as stored in the database: seeding from `holidays`, cached loading."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets import effects
from tickets.calendar import WorkCalendar, days_from_holidays
from tickets.models import CalendarDay

logger = logging.getLogger(__name__)

# Each process keeps the calendar in memory; edits in the admin reach other processes within
# this many seconds (and the editing process at once, see invalidate()).
CACHE_SECONDS = 60

_lock = threading.Lock()
_cached: tuple[float, WorkCalendar] | None = None


def official_years() -> list[int]:
    """Years for which the `holidays` package carries the State Council's 调休 schedule.

    The package also "knows" later years, but only their statutory dates, without the
    make-up working days — using those would silently assume a wrong calendar.
    """
    from holidays.countries.china import ChinaStaticHolidays

    return sorted(ChinaStaticHolidays.special_public_holidays)


def seed_from_holidays(first_year: int = 2024) -> dict[int, int]:
    """Insert the official calendar for every year from first_year the package covers.

    Existing rows are left alone (staff may have corrected a day in the admin).
    Returns {year: rows added}.
    """
    import holidays

    years = [y for y in official_years() if y >= first_year]
    china = holidays.China(years=years)
    workdays = {d for d in china.weekend_workdays if d.year in years}
    days = days_from_holidays(years, set(china.keys()), workdays)
    existing = set(CalendarDay.objects.filter(date__year__in=years).values_list("date", flat=True))
    added: dict[int, int] = {y: 0 for y in years}
    rows = []
    for day, working in days.items():
        if day in existing:
            continue
        name = china.get(day, "") if not working else ("调休上班" if day in workdays else "")
        rows.append(CalendarDay(date=day, is_working=working, name=str(name)[:60]))
        added[day.year] += 1
    with transaction.atomic():
        CalendarDay.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    invalidate()
    return added


def load_calendar(*, fresh: bool = False) -> WorkCalendar:
    global _cached
    now = time.monotonic()
    with _lock:
        if not fresh and _cached is not None and now - _cached[0] < CACHE_SECONDS:
            return _cached[1]
    days = dict(CalendarDay.objects.values_list("date", "is_working"))
    calendar = WorkCalendar(days)
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


def alert_calendar_missing(year: int, *, now: dt.datetime) -> None:
    """Tell staff that deadlines in `year` cannot be computed (one email per year and day:
    the alert's key, see notifications.alert_staff)."""
    effects.publish(
        effects.ALERT_STAFF,
        f"calendar-missing:{year}:{timezone.localdate(now).isoformat()}",
        _("工作日历缺少 %(year)s 年数据") % {"year": year},
        _(
            "系统在计算办理时限时发现工作日历缺少 %(year)s 年的数据，相关诉求暂时无法分派或"
            "推进。请在管理后台“工作日历”中录入国务院办公厅公布的 %(year)s 年节假日安排。"
        )
        % {"year": year},
    )
