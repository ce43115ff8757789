"""Working-day arithmetic on the official calendar (table tests, no database) and the store."""

import datetime as dt

import holidays
import pytest

from tickets.calendar import CalendarMissing, WorkCalendar, days_from_holidays
from tickets.calendar_store import official_years

SH = dt.timezone(dt.timedelta(hours=8))


def at(*args):
    return dt.datetime(*args, tzinfo=SH)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    years = [2025, 2026]
    china = holidays.China(years=years)
    return WorkCalendar(days_from_holidays(years, set(china), set(china.weekend_workdays)))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (dt.date(2026, 1, 4), True),  # Sunday, 调休 make-up day for New Year
        (dt.date(2026, 2, 14), True),  # Saturday, make-up day for Spring Festival
        (dt.date(2026, 2, 28), True),  # Saturday, make-up day
        (dt.date(2026, 9, 20), True),  # Sunday, make-up day for National Day
        (dt.date(2026, 10, 10), True),  # Saturday, make-up day for National Day
        *[(dt.date(2026, 10, d), False) for d in range(1, 8)],  # National Day holiday
        (dt.date(2026, 1, 1), False),
        (dt.date(2026, 2, 17), False),  # Spring Festival
        (dt.date(2026, 10, 8), True),
        (dt.date(2026, 6, 6), False),  # an ordinary Saturday
        (dt.date(2026, 6, 3), True),  # an ordinary Wednesday
    ],
)
def test_official_2026_days(cal, day, working):
    assert cal.is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Wed 17:00 before the National Day week; 8, 9, 10 (Sat, make-up), 12, 13 October.
        (at(2026, 9, 30, 17), 5, at(2026, 10, 13, 17)),
        (at(2026, 9, 30, 17), 1, at(2026, 10, 8, 17)),
        # Friday + 1 → Monday, same time.
        (at(2026, 6, 5, 10), 1, at(2026, 6, 8, 10)),
        # From a rest day the clock starts at the next working day: Sat + 1 = end of Monday.
        (at(2026, 6, 6, 10), 1, at(2026, 6, 9, 0)),
        # Friday 2026-02-13 + 1 → Saturday 2026-02-14 (a make-up working day).
        (at(2026, 2, 13, 9), 1, at(2026, 2, 14, 9)),
        # Across the Spring Festival: 14 Feb (Sat), then 24, 25 February.
        (at(2026, 2, 13, 9), 3, at(2026, 2, 25, 9)),
        # Across the year boundary inside covered years.
        (at(2025, 12, 31, 12), 1, at(2026, 1, 4, 12)),
        # Backwards: the yellow card one working day before a Monday deadline is Sunday 4 Jan.
        (at(2026, 1, 5, 12), -1, at(2026, 1, 4, 12)),
        (at(2026, 6, 8, 10), -1, at(2026, 6, 5, 10)),
        (at(2026, 6, 3, 9), 0, at(2026, 6, 3, 9)),
    ],
)
def test_add_working_days(cal, start, days, expected):
    assert cal.add_working_days(start, days) == expected


def test_result_is_in_shanghai_time_whatever_the_input_zone(cal):
    utc = dt.datetime(2026, 9, 30, 9, tzinfo=dt.UTC)  # 17:00 in Shanghai
    assert cal.add_working_days(utc, 5) == at(2026, 10, 13, 17)


def test_working_time_between_skips_rest_days(cal):
    assert cal.working_days_between(at(2026, 9, 30, 17), at(2026, 10, 13, 17)) == 5
    assert cal.working_days_between(at(2026, 10, 2, 0), at(2026, 10, 7, 23)) == 0
    assert cal.working_seconds_between(at(2026, 6, 5, 10), at(2026, 6, 3, 10)) == -2 * 86400


def test_adding_then_measuring_round_trips(cal):
    start = at(2026, 4, 3, 15, 30)
    for seconds in (1, 3600, 86_400, 5 * 86_400 + 17, 40 * 86_400):
        end = cal.add_working_seconds(start, seconds)
        assert cal.working_seconds_between(start, end) == seconds


def test_a_deadline_in_an_unseeded_year_raises_a_clear_error(cal):
    with pytest.raises(CalendarMissing) as missing:
        cal.add_working_days(at(2026, 12, 28, 10), 10)
    assert missing.value.year == 2027
    assert "2027" in str(missing.value) and "工作日历" in str(missing.value)


def test_a_start_in_an_unseeded_year_raises(cal):
    with pytest.raises(CalendarMissing) as missing:
        cal.add_working_days(at(2024, 6, 3, 10), 1)
    assert missing.value.year == 2024


def test_naive_datetimes_are_refused(cal):
    with pytest.raises(ValueError, match="aware"):
        cal.add_working_days(dt.datetime(2026, 6, 3, 10), 1)  # noqa: DTZ001


def test_a_partial_year_is_not_coverage():
    days = {dt.date(2026, 1, 1) + dt.timedelta(days=i): True for i in range(200)}
    assert WorkCalendar(days).years == frozenset()


def test_official_years_are_those_with_a_published_schedule():
    years = official_years()
    assert 2026 in years and 2025 in years
    # The package lists later years' statutory dates but not their 调休 days: not official.
    assert 2027 not in years


@pytest.mark.django_db
def test_seeded_calendar_matches_the_official_schedule():
    from tickets.calendar_store import load_calendar, seed_from_holidays
    from tickets.models import CalendarDay

    added = seed_from_holidays()
    assert added[2026] == 365
    assert seed_from_holidays()[2026] == 0  # idempotent
    assert CalendarDay.objects.get(date="2026-01-04").is_working is True
    assert CalendarDay.objects.get(date="2026-02-14").is_working is True
    assert not CalendarDay.objects.filter(date__range=("2026-10-01", "2026-10-07"), is_working=True)
    calendar = load_calendar(fresh=True)
    assert calendar.add_working_days(at(2026, 9, 30, 17), 5) == at(2026, 10, 13, 17)
