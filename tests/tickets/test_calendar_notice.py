"""A year's holiday notice: the text format, the checks, the days it gives. Pure: no database."""

import datetime as dt
from pathlib import Path

import holidays
import pytest
from django.conf import settings

from tickets.calendar import days_from_holidays
from tickets.calendar_notice import (
    Holiday,
    Schedule,
    ScheduleError,
    month_grid,
    parse,
    parse_date,
    parse_range,
    schedule_from_days,
)

D = dt.date
FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "calendar_2026.txt"


def official_2026() -> dict[dt.date, bool]:
    china = holidays.China(years=[2026])
    return days_from_holidays([2026], set(china), set(china.weekend_workdays))


def test_the_2026_fixture_is_the_official_2026_schedule():
    schedule = parse(FIXTURE.read_text(encoding="utf-8"), 2026)

    assert {day: working for day, (working, _name) in schedule.days().items()} == official_2026()
    assert [h.name for h in schedule.holidays] == [
        "元旦",
        "春节",
        "清明节",
        "劳动节",
        "端午节",
        "中秋节",
        "国庆节",
    ]
    assert schedule.workdays == (
        D(2026, 1, 4),
        D(2026, 2, 14),
        D(2026, 2, 28),
        D(2026, 5, 9),
        D(2026, 9, 20),
        D(2026, 10, 10),
    )
    assert schedule.counts() == {
        "holiday_ranges": 7,
        "holiday_days": 33,
        "workdays": 6,
        "working_days": 248,
        "rest_days": 117,
    }


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("1月4日", D(2027, 1, 4)),
        ("1月4日（周一）", D(2027, 1, 4)),
        ("2027年10月9日", D(2027, 10, 9)),
        ("2027-10-09", D(2027, 10, 9)),
        ("10-9", D(2027, 10, 9)),
        (" 2月 ", None),
        ("2月30日", None),
        ("明天", None),
    ],
)
def test_dates_are_read_as_the_notice_writes_them(token, expected):
    if expected is None:
        with pytest.raises(ValueError, match=token.strip()):
            parse_date(token, 2027)
    else:
        assert parse_date(token, 2027) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10月1日至7日", (D(2027, 10, 1), D(2027, 10, 7))),
        ("2月5日（周五）至2月11日（周四）", (D(2027, 2, 5), D(2027, 2, 11))),
        ("2027-06-09", (D(2027, 6, 9), D(2027, 6, 9))),
        ("2027-05-01 ~ 2027-05-05", (D(2027, 5, 1), D(2027, 5, 5))),
        ("5月1日–5日", (D(2027, 5, 1), D(2027, 5, 5))),
    ],
)
def test_a_range_is_one_day_or_first_to_last(text, expected):
    assert parse_range(text, 2027) == expected


def test_every_bad_line_is_named_and_nothing_is_returned():
    text = "\n".join(
        [
            "# 2027",
            "元旦：1月1日至3日",
            "春节 2月5日",  # no colon
            "清明节：4月31日",  # no such day
            "上班：2月20日、明天",
        ]
    )
    with pytest.raises(ScheduleError) as error:
        parse(text, 2027)
    assert error.value.messages == [
        "第3行：应为“名称：日期”，如“春节：2月15日至2月23日”或“上班：1月4日”。",
        "第4行：“4月31日”不是有效日期。",
        "第5行：“明天”不是日期（应如 1月4日 或 2027-01-04）。",
    ]


def _schedule(*holidays, workdays=()):
    return Schedule(2027, tuple(Holiday(*h) for h in holidays), tuple(workdays))


SPRING = ("春节", D(2027, 2, 5), D(2027, 2, 11))


@pytest.mark.parametrize(
    ("schedule", "problems"),
    [
        (_schedule(), ["请至少录入一项放假安排。"]),
        (
            _schedule(("元旦", D(2026, 12, 31), D(2027, 1, 2))),
            ["元旦：2026-12-31 至 2027-01-02 不在 2027 年内。"],
        ),
        (
            _schedule(("国庆节", D(2027, 10, 7), D(2027, 10, 1))),
            ["国庆节：开始日期 2027-10-07 晚于结束日期 2027-10-01。"],
        ),
        (
            _schedule(SPRING, ("元宵", D(2027, 2, 11), D(2027, 2, 12))),
            ["元宵（02-11 至 02-12） 与 春节（02-05 至 02-11） 的日期重叠。"],
        ),
        (
            _schedule(("春节", D(2027, 2, 5), D(2027, 3, 5))),
            ["春节：2027-02-05 至 2027-03-05 共 29 天，超过 15 天，请核对日期。"],
        ),
        (
            _schedule(SPRING, workdays=[D(2027, 2, 6)]),
            ["调休上班日 2027-02-06 在“春节”放假期间内。"],
        ),
        (
            _schedule(SPRING, workdays=[D(2027, 2, 17)]),
            ["调休上班日 2027-02-17 是星期三，本来就上班；调休上班日只能是周六或周日。"],
        ),
        (
            _schedule(SPRING, workdays=[D(2027, 2, 20), D(2027, 2, 20)]),
            ["调休上班日 2027-02-20 重复。"],
        ),
        (
            _schedule(SPRING, workdays=[D(2028, 1, 8)]),
            ["调休上班日 2028-01-08 不在 2027 年内。"],
        ),
        (_schedule(("", D(2027, 1, 1), D(2027, 1, 1))), ["第1项放假安排缺少名称。"]),
        (_schedule(SPRING, workdays=[D(2027, 2, 20)]), []),
    ],
)
def test_a_schedule_that_cannot_be_right_is_refused_with_its_reasons(schedule, problems):
    assert schedule.problems() == problems
    if problems:
        with pytest.raises(ScheduleError):
            schedule.check()


def test_days_mark_holidays_make_up_days_and_weekends():
    days = _schedule(SPRING, workdays=[D(2027, 2, 20)]).check().days()

    assert len(days) == 365
    assert days[D(2027, 2, 8)] == (False, "春节")  # Monday in the range
    assert days[D(2027, 2, 6)] == (False, "春节")  # Saturday in the range
    assert days[D(2027, 2, 20)] == (True, "调休上班")  # Saturday worked
    assert days[D(2027, 2, 13)] == (False, "")  # an ordinary Saturday
    assert days[D(2027, 2, 12)] == (True, "")  # an ordinary Friday
    assert days[D(2027, 1, 1)] == (True, "")  # not entered: a working Friday


def test_the_month_grid_tells_the_four_kinds_of_day_apart():
    schedule = _schedule(SPRING, workdays=[D(2027, 2, 20)])
    months = month_grid(2027, schedule.days())

    assert [month for month, _weeks in months] == list(range(1, 13))
    february = dict(months)[2]
    cells = {cell.day: cell for week in february for cell in week if cell.day}
    assert len(cells) == 28
    assert all(len(week) == 7 for week in february)
    assert february[0][0].day == D(2027, 2, 1)  # Monday first
    assert cells[D(2027, 2, 8)].kind == "holiday"
    assert cells[D(2027, 2, 20)].kind == "makeup"
    assert cells[D(2027, 2, 13)].kind == "rest"
    assert cells[D(2027, 2, 12)].kind == "working"


def test_ranges_are_recovered_from_a_years_days():
    days = {day: (working, "") for day, working in official_2026().items()}
    china = holidays.China(years=[2026], language="zh_CN")
    days.update({day: (False, name) for day, name in china.items()})

    schedule = schedule_from_days(2026, days)

    assert schedule == parse(FIXTURE.read_text(encoding="utf-8"), 2026)
    assert parse(schedule.as_text(), 2026) == schedule
    assert Schedule.from_json(2026, *schedule.as_json()) == schedule


def test_statutory_days_no_range_covers_are_pointed_out():
    statutory = {D(2027, 2, 5): "农历除夕", D(2027, 2, 12): "春节（补假）", D(2027, 6, 9): "端午节"}

    warnings = _schedule(SPRING).unlisted_statutory(statutory)

    assert warnings == [
        "法定节假日 2027-02-12（春节（补假））不在任何放假区间内，请核对通知。",
        "法定节假日 2027-06-09（端午节）不在任何放假区间内，请核对通知。",
    ]
