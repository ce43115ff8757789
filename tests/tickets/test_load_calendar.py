"""manage.py load_calendar YEAR FILE [--confirm]: a year from a notice typed into a file."""

import io
from pathlib import Path

import holidays
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.tickets.conftest import at, make_ticket
from tickets import calendar_store, workflow
from tickets.calendar import days_from_holidays
from tickets.models import CalendarDay, CalendarYear, Status, Ticket

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "calendar_2026.txt"


# A made-up 2027 notice (the real one is not out yet): 元旦 takes Monday 4 January off, worked
# on Saturday 9 January; 春节 one day longer than the statutory days.
NOTICE_2027 = """\
元旦：1月1日至4日
春节：2月5日至11日
清明节：4月3日至5日
劳动节：5月1日至4日
端午节：6月9日
中秋节：9月15日
国庆节：10月1日至5日
上班：1月9日（周六）
"""


def run(*args) -> str:
    out = io.StringIO()
    call_command("load_calendar", *map(str, args), stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_loading_the_2026_fixture_gives_the_packages_official_2026_calendar():
    calendar_store.invalidate()  # nothing seeded: 2026 is not in the database at all

    output = run(2026, FIXTURE, "--confirm")

    assert "2026 年工作日历已确认" in output
    china = holidays.China(years=[2026])
    official = days_from_holidays([2026], set(china), set(china.weekend_workdays))
    assert dict(CalendarDay.objects.values_list("date", "is_working")) == official
    assert CalendarYear.objects.get(year=2026).source == "calendar_2026.txt（load_calendar）"
    calendar = calendar_store.load_calendar(fresh=True)
    assert calendar.years == frozenset({2026})
    assert calendar.add_working_days(at(2026, 9, 30, 17), 5) == at(2026, 10, 13, 17)


def test_without_confirm_it_previews_and_saves_nothing(world):
    output = run(2026, FIXTURE)

    assert "春节：02-15（周日） 至 02-23（周一），共 9 天" in output
    assert "  01-04（周日）" in output
    assert "放假 7 项 33 天，调休上班 6 天，全年工作日 248 天，休息日 117 天" in output
    assert "与当前日历相比 0 天不同" in output
    assert "未确认，未保存" in output
    assert CalendarYear.objects.get(year=2026).source == calendar_store.OFFICIAL_SOURCE


def test_confirming_next_year_recomputes_the_provisional_deadlines(world, tmp_path):
    ticket = make_ticket(world, Status.SUBMITTED, department=None)
    workflow.route_ticket(ticket_id=ticket.pk, now=at(2026, 12, 30, 9))
    notice = tmp_path / "2027.txt"
    notice.write_text(NOTICE_2027)

    output = run(
        2027, notice, "--confirm", "--source", "国办发明电〔2026〕X号", "--by", "coordinator"
    )

    assert "与当前日历相比 3 天不同" in output  # 4 Jan and 11 Feb off, 9 Jan worked
    assert "重算暂定时限 1 件" in output
    assert "注意" not in output
    stored = CalendarYear.objects.get(year=2027)
    assert (stored.source, stored.confirmed_by) == ("国办发明电〔2026〕X号", world.coordinator_user)
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.resolve_due_at, ticket.deadlines_provisional) == (at(2027, 1, 8, 9), False)


def test_a_statutory_holiday_the_file_forgets_is_pointed_out(world, tmp_path):
    notice = tmp_path / "2027.txt"
    notice.write_text(NOTICE_2027.replace("清明节：4月3日至5日\n", ""))

    output = run(2027, notice)

    assert "注意：法定节假日 2027-04-05（清明节）不在任何放假区间内，请核对通知。" in output
    assert not CalendarYear.objects.filter(year=2027).exists()


@pytest.mark.parametrize(
    ("text", "messages"),
    [
        (
            "元旦：1月1日至3日\n春节 2月5日至11日\n国庆节：10月1日至10月40日\n",
            ["第2行：应为“名称：日期”", "第3行：“10月40日”不是有效日期。"],
        ),
        ("元旦：1月1日至3日\n上班：1月6日\n", ["调休上班日 2027-01-06 是星期三"]),
        ("元旦：1月1日至3日\n上班：1月2日\n", ["调休上班日 2027-01-02 在“元旦”放假期间内。"]),
        ("春节：2月5日至11日\n元宵：2月11日\n", ["元宵（02-11 至 02-11） 与 春节"]),
        ("元旦：2026年12月31日至2027年1月3日\n", ["不在 2027 年内"]),
        ("# 只有注释\n", ["请至少录入一项放假安排。"]),
    ],
)
def test_a_bad_file_is_refused_with_the_reasons_and_nothing_is_saved(
    world, tmp_path, text, messages
):
    notice = tmp_path / "2027.txt"
    notice.write_text(text)

    with pytest.raises(CommandError) as error:
        run(2027, notice, "--confirm")

    assert "未保存任何数据" in str(error.value)
    for message in messages:
        assert message in str(error.value)
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not CalendarDay.objects.filter(date__year=2027).exists()


def test_an_unreadable_file_or_unknown_user_is_a_clear_error(world, tmp_path):
    with pytest.raises(CommandError, match="无法读取"):
        run(2027, tmp_path / "missing.txt", "--confirm")
    (tmp_path / "gbk.txt").write_bytes("元旦：1月1日".encode("gb18030"))
    with pytest.raises(CommandError, match="无法读取"):
        run(2027, tmp_path / "gbk.txt", "--confirm")
    with pytest.raises(CommandError, match="用户 nobody 不存在"):
        run(2026, FIXTURE, "--confirm", "--by", "nobody")
    with pytest.raises(CommandError, match="超出支持范围"):
        run(2101, FIXTURE, "--confirm")
    assert not CalendarYear.objects.filter(year=2027).exists()


@pytest.mark.parametrize(("answer", "confirmed"), [("y", True), ("", False), ("n", False)])
def test_at_a_terminal_it_asks_before_confirming(world, tmp_path, monkeypatch, answer, confirmed):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    asked = []
    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or answer)
    notice = tmp_path / "2027.txt"
    notice.write_text(NOTICE_2027)

    output = run(2027, notice)

    assert asked == ["确认 2027 年工作日历？/ confirm? [y/N] "]
    assert CalendarYear.objects.filter(year=2027).exists() is confirmed
    assert ("已确认" in output) is confirmed and ("已取消" in output) is not confirmed
