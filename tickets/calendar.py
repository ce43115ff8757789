"""Working-day arithmetic on the official Chinese calendar. Pure: no ORM, no clock.

The SLA clock counts *working time*: it runs through every second of a working day and
stops on rest days (weekends, public holidays) — except 调休 make-up days, which are
working days even on a weekend. "N working days after t" is therefore the same time of
day on the N-th working day after t's day when t falls on a working day, and the end of
the N-th working day when t falls on a rest day. Pausing the clock (挂起) and resuming it
moves a deadline by exactly the working time the ticket was paused.

Everything is computed in Asia/Shanghai local time. A year is either confirmed (staff
entered or accepted the State Council's schedule) or provisional (the statutory holidays
alone, without the 调休 make-up days, until the schedule is confirmed); a deadline that
touches a provisional year is marked 暂定 by the caller (`is_provisional`). A computation
that touches a year with neither raises CalendarMissing: we never guess Monday-Friday.
"""

from __future__ import annotations

import bisect
import calendar as _stdlib_calendar
import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = 86_400


class CalendarMissing(Exception):
    """The working calendar has no data for a year a deadline needs."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(
            f"工作日历缺少 {year} 年的数据，无法计算时限。请在管理后台录入国务院办公厅公布的"
            f"{year}年节假日安排（或运行 load_reference_data 更新）。"
        )


def _days_in_year(year: int) -> int:
    return 366 if _stdlib_calendar.isleap(year) else 365


def _complete_years(days: Mapping[dt.date, bool]) -> frozenset[int]:
    per_year: dict[int, int] = {}
    for day in days:
        per_year[day.year] = per_year.get(day.year, 0) + 1
    return frozenset(y for y, n in per_year.items() if n == _days_in_year(y))


class WorkCalendar:
    """An immutable view of complete calendar years: date -> is working day.

    `days` are the confirmed years (`years`); `provisional` may add further years
    (`provisional_years`), used for arithmetic like the others where no confirmed data exists.
    """

    def __init__(
        self, days: Mapping[dt.date, bool], provisional: Mapping[dt.date, bool] | None = None
    ):
        # Only complete years count as covered: a half-entered year is not data.
        self.years = _complete_years(days)
        extra = _complete_years(provisional or {}) - self.years
        self.provisional_years = extra
        self._covered = self.years | extra
        self._working = {d: w for d, w in days.items() if d.year in self.years}
        if extra:
            self._working.update((d, w) for d, w in provisional.items() if d.year in extra)
        self._working_dates = sorted(d for d, w in self._working.items() if w)

    def __repr__(self):
        return (
            f"<WorkCalendar years={sorted(self.years)}"
            f" provisional={sorted(self.provisional_years)}>"
        )

    # --- days -------------------------------------------------------------------------
    def require_years(self, first: int, last: int) -> None:
        for year in range(min(first, last), max(first, last) + 1):
            if year not in self._covered:
                raise CalendarMissing(year)

    def is_provisional(self, moment: dt.datetime | None) -> bool:
        """Does this instant fall in a provisional (unconfirmed) year?"""
        return moment is not None and _local(moment).year in self.provisional_years

    def is_working_day(self, day: dt.date) -> bool:
        self.require_years(day.year, day.year)
        return self._working[day]

    # --- working seconds since an arbitrary origin ------------------------------------
    def _position(self, moment: dt.datetime) -> int:
        local = _local(moment)
        day = local.date()
        self.require_years(day.year, day.year)
        before = bisect.bisect_left(self._working_dates, day) * DAY
        if self._working[day]:
            midnight = dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI)
            before += int((local - midnight).total_seconds())
        return before

    def _moment(self, position: int, start_year: int) -> dt.datetime:
        index, seconds = divmod(position, DAY)
        if index < 0 or index >= len(self._working_dates):
            year = start_year + (1 if index >= 0 else -1)
            # Name the first missing year in the direction we ran off the data.
            step = 1 if index >= 0 else -1
            while year in self._covered:
                year += step
            raise CalendarMissing(year)
        day = self._working_dates[index]
        result = dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI) + dt.timedelta(
            seconds=seconds
        )
        self.require_years(start_year, day.year)
        return result

    # --- public arithmetic ------------------------------------------------------------
    def add_working_seconds(self, moment: dt.datetime, seconds: int | float) -> dt.datetime:
        start_year = _local(moment).year
        return self._moment(self._position(moment) + int(round(seconds)), start_year)

    def add_working_days(self, moment: dt.datetime, days: int | float) -> dt.datetime:
        return self.add_working_seconds(moment, days * DAY)

    def working_seconds_between(self, start: dt.datetime, end: dt.datetime) -> int:
        """Working time from start to end (negative when end is before start)."""
        self.require_years(_local(start).year, _local(end).year)
        return self._position(end) - self._position(start)

    def working_days_between(self, start: dt.datetime, end: dt.datetime) -> float:
        return self.working_seconds_between(start, end) / DAY


def _local(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("working-day arithmetic needs an aware datetime")
    return moment.astimezone(SHANGHAI)


def days_from_holidays(years: range | list[int], holidays_by_date, workdays) -> dict:
    """Build {date: is_working} for whole years from a holiday set and make-up workdays."""
    days: dict[dt.date, bool] = {}
    for year in years:
        day = dt.date(year, 1, 1)
        while day.year == year:
            if day in workdays:
                days[day] = True
            elif day in holidays_by_date:
                days[day] = False
            else:
                days[day] = day.weekday() < 5
            day += dt.timedelta(days=1)
    return days
