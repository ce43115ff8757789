"""One year's holiday schedule as the State Council's notice states it. Pure: no ORM, no clock.

Each winter 国务院办公厅 publishes next year's 部分节假日安排: for each festival a range of days
off (放假调休, weekends inside included) and the weekend days worked instead (调休上班).
Staff enter exactly that — holiday ranges (name, first day, last day) and make-up working
days — in the admin (tickets.admin, 录入年度日历) or from a file (manage.py load_calendar);
`Schedule.problems()` refuses what cannot be right, `Schedule.days()` turns the rest into
the year's days.

The file format (UTF-8 text, one line each, as typed from the notice):

    # 2026年部分节假日安排（国办发明电〔2025〕7号）   ← a comment
    元旦：1月1日至3日
    春节：2月15日至2月23日
    国庆节、中秋节：2026-10-01 至 2026-10-08
    上班：1月4日、2月14日、2月28日

- `name：range` for a holiday (a full-width or ASCII colon). A range is one date or
  `first至last` (also `~`, `～`, `—`, `–`); the last date may omit the month, as the notice
  does (`10月1日至7日`).
- a line named 上班 (or 调休上班, 补班, workdays) lists the make-up working days, separated by
  、 , ， ; or spaces; several such lines add up.
- dates are `M月D日`, `YYYY年M月D日`, `MM-DD` or `YYYY-MM-DD`; the year defaults to the
  schedule's year. Anything in parentheses — `1月4日（周日）` — is ignored.
fixtures/calendar_2026.txt is the official 2026 schedule in this format.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

# A festival's days off never reach this (the longest in 20 years: 9 days for 春节 2026,
# 10 for the extended 2020 one); a longer range is a typo in a date.
MAX_HOLIDAY_DAYS = 15
WORKDAY_NAMES = {"上班", "调休上班", "补班", "workday", "workdays"}
WEEKDAYS = "一二三四五六日"

_DATE = re.compile(
    r"^(?:(?:(?P<y1>\d{4})年)?(?P<m1>\d{1,2})月)?(?P<d1>\d{1,2})日$"
    r"|^(?:(?:(?P<y2>\d{4})-)?(?P<m2>\d{1,2})-)?(?P<d2>\d{1,2})$"
)
_PARENTHESES = re.compile(r"[（(][^）)]*[）)]")
_RANGE = re.compile(r"\s*(?:至|~|～|—|–|\.\.)\s*")
_ITEMS = re.compile(r"[、,，;；\s]+")


class ScheduleError(ValueError):
    """The entry cannot be a year's schedule; `messages` says every reason."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("；".join(messages))


@dataclass(frozen=True)
class Holiday:
    name: str
    first: dt.date
    last: dt.date

    @property
    def length(self) -> int:
        return (self.last - self.first).days + 1

    def dates(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range(max(self.length, 0))]

    def label(self) -> str:
        return f"{self.name}（{self.first:%m-%d} 至 {self.last:%m-%d}）"


@dataclass(frozen=True)
class Schedule:
    year: int
    holidays: tuple[Holiday, ...]
    workdays: tuple[dt.date, ...]

    # --- checking ---------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Every reason this cannot be the year's schedule (empty: it can)."""
        year = self.year
        found: list[str] = []
        if not self.holidays:
            found.append(_("请至少录入一项放假安排。"))
        taken: dict[dt.date, Holiday] = {}
        for number, holiday in enumerate(self.holidays, start=1):
            name = holiday.name.strip()
            if not name:
                found.append(_("第%(n)s项放假安排缺少名称。") % {"n": number})
                name = str(number)
            args = {"name": name, "first": holiday.first, "last": holiday.last, "year": year}
            if holiday.first > holiday.last:
                found.append(_("%(name)s：开始日期 %(first)s 晚于结束日期 %(last)s。") % args)
                continue
            if holiday.first.year != year or holiday.last.year != year:
                found.append(_("%(name)s：%(first)s 至 %(last)s 不在 %(year)s 年内。") % args)
                continue
            if holiday.length > MAX_HOLIDAY_DAYS:
                found.append(
                    _(
                        "%(name)s：%(first)s 至 %(last)s 共 %(days)s 天，"
                        "超过 %(max)s 天，请核对日期。"
                    )
                    % {**args, "days": holiday.length, "max": MAX_HOLIDAY_DAYS}
                )
                continue
            clash = next((taken[d] for d in holiday.dates() if d in taken), None)
            if clash is not None:
                found.append(
                    _("%(name)s 与 %(other)s 的日期重叠。")
                    % {"name": holiday.label(), "other": clash.label()}
                )
                continue
            taken.update((d, holiday) for d in holiday.dates())
        seen: set[dt.date] = set()
        for day in self.workdays:
            args = {"day": day, "weekday": WEEKDAYS[day.weekday()], "year": year}
            if day in seen:
                found.append(_("调休上班日 %(day)s 重复。") % args)
                continue
            seen.add(day)
            if day.year != year:
                found.append(_("调休上班日 %(day)s 不在 %(year)s 年内。") % args)
            elif day in taken:
                found.append(
                    _("调休上班日 %(day)s 在“%(name)s”放假期间内。")
                    % {**args, "name": taken[day].name}
                )
            elif day.weekday() < 5:
                found.append(
                    _(
                        "调休上班日 %(day)s 是星期%(weekday)s，本来就上班；"
                        "调休上班日只能是周六或周日。"
                    )
                    % args
                )
        return found

    def check(self) -> Schedule:
        problems = self.problems()
        if problems:
            raise ScheduleError(problems)
        return self

    def unlisted_statutory(self, statutory: Mapping[dt.date, str]) -> list[str]:
        """Warnings: statutory rest days (from the `holidays` package) no range covers — the
        law gives them off, so a notice always does; missing one is usually a typo."""
        covered = {d for holiday in self.holidays for d in holiday.dates()}
        return [
            _("法定节假日 %(day)s（%(name)s）不在任何放假区间内，请核对通知。")
            % {"day": day, "name": name}
            for day, name in sorted(statutory.items())
            if day.year == self.year and day not in covered and day not in self.workdays
        ]

    # --- the year's days --------------------------------------------------------------
    def days(self) -> dict[dt.date, tuple[bool, str]]:
        """{date: (is working, name)} for every day of the year (call on a checked schedule)."""
        names = {d: holiday.name for holiday in self.holidays for d in holiday.dates()}
        workdays = set(self.workdays)
        result = {}
        for day in _year_days(self.year):
            if day in workdays:
                result[day] = (True, _("调休上班"))
            elif day in names:
                result[day] = (False, names[day])
            else:
                result[day] = (day.weekday() < 5, "")
        return result

    def counts(self) -> dict[str, int]:
        days = self.days()
        return {
            "holiday_ranges": len(self.holidays),
            "holiday_days": sum(h.length for h in self.holidays),
            "workdays": len(self.workdays),
            "working_days": sum(1 for working, _name in days.values() if working),
            "rest_days": sum(1 for working, _name in days.values() if not working),
        }

    # --- storage (CalendarYear.holidays / .workdays) ----------------------------------
    def as_json(self) -> tuple[list[dict], list[str]]:
        return (
            [
                {"name": h.name, "first": h.first.isoformat(), "last": h.last.isoformat()}
                for h in self.holidays
            ],
            [d.isoformat() for d in self.workdays],
        )

    @classmethod
    def from_json(cls, year: int, holidays: list[dict], workdays: list[str]) -> Schedule:
        return cls(
            year,
            tuple(
                Holiday(
                    h["name"], dt.date.fromisoformat(h["first"]), dt.date.fromisoformat(h["last"])
                )
                for h in holidays
            ),
            tuple(dt.date.fromisoformat(d) for d in workdays),
        )

    def as_text(self) -> str:
        """The schedule in the file format (parse(as_text()) gives it back)."""
        lines = [f"{h.name}：{h.first.isoformat()} 至 {h.last.isoformat()}" for h in self.holidays]
        if self.workdays:
            lines.append("上班：" + "、".join(d.isoformat() for d in self.workdays))
        return "\n".join(lines) + "\n"


def _year_days(year: int) -> Iterable[dt.date]:
    day = dt.date(year, 1, 1)
    while day.year == year:
        yield day
        day += dt.timedelta(days=1)


# --- the text format --------------------------------------------------------------------


def parse_date(token: str, year: int, *, month: int | None = None) -> dt.date:
    """`M月D日`, `YYYY年M月D日`, `MM-DD`, `YYYY-MM-DD`; a bare `D日`/`D` takes `month`."""
    text = _PARENTHESES.sub("", token).strip()
    match = _DATE.match(text)
    if match is None:
        raise ValueError(_("“%(token)s”不是日期（应如 1月4日 或 2027-01-04）。") % {"token": token})
    y = match["y1"] or match["y2"]
    m = match["m1"] or match["m2"]
    d = match["d1"] or match["d2"]
    if m is None and month is None:
        raise ValueError(_("“%(token)s”缺少月份。") % {"token": token})
    try:
        return dt.date(int(y) if y else year, int(m) if m else month, int(d))
    except ValueError:
        raise ValueError(_("“%(token)s”不是有效日期。") % {"token": token}) from None


def parse_range(text: str, year: int) -> tuple[dt.date, dt.date]:
    parts = _RANGE.split(_PARENTHESES.sub("", text).strip())
    if len(parts) == 1:
        day = parse_date(parts[0], year)
        return day, day
    if len(parts) != 2 or not all(parts):
        raise ValueError(_("“%(text)s”应为一个日期或“开始日期至结束日期”。") % {"text": text})
    first = parse_date(parts[0], year)
    return first, parse_date(parts[1], first.year, month=first.month)


def parse_dates(text: str, year: int) -> list[dt.date]:
    """A list of dates separated by 、 , ， ; or whitespace."""
    return [parse_date(token, year) for token in _ITEMS.split(_PARENTHESES.sub("", text)) if token]


def parse(text: str, year: int) -> Schedule:
    """Read the file format; raises ScheduleError naming the line of every mistake, or the
    schedule's problems(). The result is checked."""
    holidays: list[Holiday] = []
    workdays: list[dt.date] = []
    errors: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip().lstrip("\ufeff")
        if not line:
            continue
        name, colon, rest = line.replace("：", ":").partition(":")
        name, rest = name.strip(), rest.strip()
        where = _("第%(n)s行") % {"n": number}
        if not colon or not name or not rest:
            errors.append(
                _("%(where)s：应为“名称：日期”，如“春节：2月15日至2月23日”或“上班：1月4日”。")
                % {"where": where}
            )
            continue
        try:
            if name.lower() in WORKDAY_NAMES:
                workdays += parse_dates(rest, year)
            else:
                first, last = parse_range(rest, year)
                holidays.append(Holiday(name, first, last))
        except ValueError as error:
            errors.append(f"{where}：{error}")
    if errors:
        raise ScheduleError(errors)
    return Schedule(year, tuple(holidays), tuple(workdays)).check()


def schedule_from_days(year: int, days: Mapping[dt.date, tuple[bool, str]]) -> Schedule:
    """The ranges a year's days imply (to pre-fill the entry form): each run of consecutive
    rest days that includes a weekday off is one holiday, named by its commonest festival
    name; each working Saturday or Sunday is a make-up day. Not checked."""
    holidays, workdays, run = [], [], []

    def close_run():
        if any(day.weekday() < 5 for day in run):
            names = Counter(
                _PARENTHESES.sub("", name).strip()
                for day in run
                if (name := days[day][1]) and not name.startswith(("休息日", "Day off"))
            )
            name = names.most_common(1)[0][0] if names else _("节假日")
            holidays.append(Holiday(name, run[0], run[-1]))
        run.clear()

    for day in sorted(days):
        working, _name = days[day]
        if working:
            close_run()
            if day.weekday() >= 5:
                workdays.append(day)
        else:
            run.append(day)
    close_run()
    # A year's first and last weekends are not holidays: only runs with a weekday off count.
    return Schedule(year, tuple(holidays), tuple(workdays))


# --- the preview --------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    day: dt.date | None  # None: padding before the 1st / after the last day
    kind: str = ""  # "working", "rest" (weekend), "holiday", "makeup"
    name: str = ""


def month_grid(
    year: int, days: Mapping[dt.date, tuple[bool, str]]
) -> list[tuple[int, list[list[Cell]]]]:
    """[(month, weeks of 7 cells, Monday first)] for a 12-month calendar of the year. A working
    weekend day is a make-up day; a rest day with a name (or on a weekday) a holiday."""
    months = []
    for month in range(1, 13):
        weeks = []
        for week in _stdlib_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            row = []
            for day in week:
                if day.month != month:
                    row.append(Cell(None))
                    continue
                working, name = days[day]
                weekend = day.weekday() >= 5
                if working:
                    kind = "makeup" if weekend else "working"
                else:
                    kind = "holiday" if name or not weekend else "rest"
                row.append(Cell(day, kind, name))
            weeks.append(row)
        months.append((month, weeks))
    return months
