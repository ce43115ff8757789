"""manage.py load_calendar YEAR FILE [--confirm] — a year's holidays from the State Council's
notice, typed into a small text file (format: tickets/calendar_notice.py; example:
fixtures/calendar_2026.txt). Shows what the file says; with --confirm (or a "y" at the
prompt) stores and confirms the year and recomputes the provisional deadlines."""

import datetime as dt
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tickets import calendar_store
from tickets.calendar_notice import WEEKDAYS, ScheduleError, parse


class Command(BaseCommand):
    help = (
        "按国务院办公厅通知载入某年的节假日安排（预览；--confirm 确认并重算暂定时限）。"
        "Load a year's holidays from a notice file (preview; --confirm to confirm)."
    )

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--confirm", action="store_true", help="确认，不再询问 / confirm without asking"
        )
        parser.add_argument("--source", default="", help="依据（通知名称、文号）")
        parser.add_argument("--by", default="", help="确认人（用户名）/ the confirming user")

    def handle(self, *args, year: int, file: Path, confirm: bool, source: str, by: str, **opts):
        if year not in calendar_store.package_range():
            raise CommandError(f"年份 {year} 超出支持范围 / year out of range")
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"无法读取 {file}：{error}") from None
        try:
            schedule = parse(text, year)
        except ScheduleError as error:
            raise CommandError(
                f"{file} 有误，未保存任何数据 / nothing saved:\n  " + "\n  ".join(error.messages)
            ) from None
        user = None
        if by:
            user = get_user_model().objects.filter(username=by).first()
            if user is None:
                raise CommandError(f"用户 {by} 不存在 / no such user")
        self._preview(schedule)
        if not confirm:
            if not sys.stdin.isatty():
                self.stdout.write(
                    "未确认，未保存（加 --confirm 确认） / not confirmed, nothing saved"
                )
                return
            answer = input(f"确认 {year} 年工作日历？/ confirm? [y/N] ").strip().lower()
            if answer not in ("y", "yes", "是"):
                self.stdout.write("已取消，未保存 / cancelled, nothing saved")
                return
        confirmation = calendar_store.confirm_year(
            schedule, source=source or f"{file.name}（load_calendar）", by=user
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{year} 年工作日历已确认 / confirmed；"
                f"重算暂定时限 {confirmation.recomputed} 件 / provisional tickets recomputed"
            )
        )
        if confirmation.corrected:
            self.stdout.write(
                "这是对已确认年份的更正：未办结诉求的时限已排队重算 / recompute queued"
            )

    def _preview(self, schedule) -> None:
        def day(d: dt.date) -> str:
            return f"{d:%m-%d}（周{WEEKDAYS[d.weekday()]}）"

        self.stdout.write(f"{schedule.year} 年节假日安排 / holidays:")
        for holiday in schedule.holidays:
            self.stdout.write(
                f"  {holiday.name}：{day(holiday.first)} 至 {day(holiday.last)}，"
                f"共 {holiday.length} 天"
            )
        self.stdout.write("调休上班 / make-up working days:")
        for workday in schedule.workdays:
            self.stdout.write(f"  {day(workday)}")
        if not schedule.workdays:
            self.stdout.write("  （无）")
        counts = schedule.counts()
        current = calendar_store.year_days(schedule.year)
        changed = sum(1 for d, (working, _n) in schedule.days().items() if current[d][0] != working)
        self.stdout.write(
            f"放假 {counts['holiday_ranges']} 项 {counts['holiday_days']} 天，"
            f"调休上班 {counts['workdays']} 天，全年工作日 {counts['working_days']} 天，"
            f"休息日 {counts['rest_days']} 天；与当前日历相比 {changed} 天不同。"
        )
        statutory, _workdays = calendar_store.package_holidays(schedule.year)
        for warning in schedule.unlisted_statutory(statutory):
            self.stdout.write(self.style.WARNING(f"注意：{warning}"))
