"""Reporting periods: calendar dates in Asia/Shanghai turned into half-open instants.

Pure logic (no ORM). A period is inclusive of both dates, as people say it ("3月2日至3月8日");
as a filter it is ``since_start <= created_at < day after until``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Dates people may ask about (API, dashboard). Outside this range a request is refused rather
# than turned into thousands of empty monthly rows or a date overflow.
EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2099, 12, 31)


@dataclass(frozen=True)
class Period:
    """Inclusive local dates; None means unbounded on that side."""

    since: dt.date | None = None
    until: dt.date | None = None

    def __post_init__(self):
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"period starts {self.since} after it ends {self.until}")

    @property
    def start(self) -> dt.datetime | None:
        return local_midnight(self.since) if self.since else None

    @property
    def end(self) -> dt.datetime | None:
        """The first instant after the period (exclusive bound)."""
        return local_midnight(self.until + dt.timedelta(days=1)) if self.until else None

    def label(self) -> str:
        if self.since and self.until:
            return f"{self.since:%Y-%m-%d}至{self.until:%Y-%m-%d}"
        if self.since:
            return f"{self.since:%Y-%m-%d}起"
        if self.until:
            return f"截至{self.until:%Y-%m-%d}"
        return "全部"


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def parse_instant(value: str | None) -> dt.datetime | None:
    """An ISO 8601 instant; without an offset it is Asia/Shanghai wall-clock time."""
    if not value:
        return None
    instant = dt.datetime.fromisoformat(value)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=SHANGHAI)
    return instant


def local_date(instant: dt.datetime) -> dt.date:
    if instant.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return instant.astimezone(SHANGHAI).date()


def last_complete_week(now: dt.datetime) -> Period:
    """Monday–Sunday of the last week that ended before ``now`` (Asia/Shanghai)."""
    today = local_date(now)
    this_monday = today - dt.timedelta(days=today.weekday())
    return Period(this_monday - dt.timedelta(days=7), this_monday - dt.timedelta(days=1))


def last_complete_month(now: dt.datetime) -> Period:
    """The calendar month before the one ``now`` falls in (Asia/Shanghai)."""
    first_of_this = local_date(now).replace(day=1)
    last_of_previous = first_of_this - dt.timedelta(days=1)
    return Period(last_of_previous.replace(day=1), last_of_previous)


def month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    """First days of every month from ``first``'s month to ``last``'s month, inclusive."""
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(dt.date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def month_of_key(key: str) -> dt.date:
    """A month as statistics key it, "2026-03", → its first day, 2026-03-01."""
    year, month = key.split("-")
    return dt.date(int(year), int(month), 1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` away from ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)
