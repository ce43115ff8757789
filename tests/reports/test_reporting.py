import datetime as dt
import io
import os
import socket
import subprocess
import sys
from smtplib import SMTPException

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMessage
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from enterprises.models import Department
from reports.models import ReportSnapshot
from reports.periods import SHANGHAI, Period, last_complete_month, last_complete_week
from reports.reporting import resend_unsent, run_report
from reports.tasks import scheduled_report
from tests.broker import ROOT, database_url
from tests.reports.conftest import NOW, at, wall
from tickets.models import Ticket

FEBRUARY_HEADLINE = (
    "本期受理企业诉求3件，需市级层面解决的问题3个，其中已基本解决1个，占比33.3%（目标90%）"
)


def workbook(snapshot):
    return load_workbook(io.BytesIO(bytes(snapshot.xlsx)))


def rows(sheet):
    return list(sheet.iter_rows(values_only=True))


# --- periods -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "since", "until"),
    [
        (dt.datetime(2026, 3, 23, 8, 0, tzinfo=SHANGHAI), "2026-03-16", "2026-03-22"),  # Monday
        (dt.datetime(2026, 3, 22, 23, 59, tzinfo=SHANGHAI), "2026-03-09", "2026-03-15"),  # Sunday
        # 2026-03-22 16:30 UTC is already Monday 00:30 in Weihai.
        (dt.datetime(2026, 3, 22, 16, 30, tzinfo=dt.UTC), "2026-03-16", "2026-03-22"),
        (dt.datetime(2026, 1, 1, 8, 0, tzinfo=SHANGHAI), "2025-12-22", "2025-12-28"),
    ],
)
def test_last_complete_week_is_monday_to_sunday_in_shanghai(now, since, until):
    period = last_complete_week(now)
    assert (period.since.isoformat(), period.until.isoformat()) == (since, until)


@pytest.mark.parametrize(
    ("now", "since", "until"),
    [
        (dt.datetime(2026, 3, 1, 8, 0, tzinfo=SHANGHAI), "2026-02-01", "2026-02-28"),
        (dt.datetime(2026, 1, 15, 8, 0, tzinfo=SHANGHAI), "2025-12-01", "2025-12-31"),
        (dt.datetime(2028, 3, 31, 23, 0, tzinfo=SHANGHAI), "2028-02-01", "2028-02-29"),
        # 2026-02-28 16:30 UTC is 2026-03-01 00:30 in Weihai: February is complete.
        (dt.datetime(2026, 2, 28, 16, 30, tzinfo=dt.UTC), "2026-02-01", "2026-02-28"),
    ],
)
def test_last_complete_month_in_shanghai(now, since, until):
    period = last_complete_month(now)
    assert (period.since.isoformat(), period.until.isoformat()) == (since, until)


# --- the workbook and the CSV -------------------------------------------------------------


def test_monthly_report_workbook_holds_the_three_sheets(world):
    snapshot = run_report(period_kind="month", now=NOW).snapshot

    assert (snapshot.period_kind, snapshot.period_start, snapshot.period_end) == (
        "month",
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 28),
    )
    assert snapshot.headline == FEBRUARY_HEADLINE
    book = workbook(snapshot)
    assert book.sheetnames == ["汇总", "按责任单位", "升级与超期诉求"]

    summary = rows(book["汇总"])
    assert summary[0][0] == "企业诉求办理月报（2026-02-01至2026-02-28）"
    assert summary[1][:2] == ("统计期间", "2026-02-01至2026-02-28")
    assert summary[2][:2] == ("统计时点", wall(2026, 3, 20, 12, 0))
    assert summary[3][:2] == ("摘要", FEBRUARY_HEADLINE)
    assert summary[4][:2] == (
        "三率",
        "整体解决率33.3%，按时办结率0.0%，满意率50.0%；升级2件，当前超期2件，督办1件。",
    )
    assert summary[6] == ("指标", "数值", "分子", "分母", "目标", "达标情况")
    figures = {row[0]: row[1:] for row in summary[7:20]}
    assert figures == {
        "受理诉求（件）": (3, None, None, None, None),
        "已解决（含基本解决）": (1, None, None, None, None),
        "解决率": (pytest.approx(1 / 3), 1, 3, 0.9, "▼ 未达标"),
        "按时办结率": (0, 0, 1, 0.9, "▼ 未达标"),
        "满意率": (0.5, 1, 2, 0.9, "▼ 未达标"),
        "需市级层面解决的问题（个）": (3, None, None, None, None),
        "其中已基本解决（个）": (1, None, None, None, None),
        "市级层面问题解决占比": (pytest.approx(1 / 3), 1, 3, 0.9, "▼ 未达标"),
        "退单（件）": (1, None, None, None, None),
        "重办（件）": (1, None, None, None, None),
        "升级（件）": (2, None, None, None, None),
        "当前超期（件）": (2, None, None, None, None),
        "督办（件）": (1, None, None, None, None),
    }
    assert summary[21][:6] == ("清单类别", "受理量", "已解决", "解决率", "按时办结率", "满意率")
    assert summary[22:26] == [
        ("企业困难问题", 0, 0, "—", "—", "—"),
        ("技术需求", 0, 0, "—", "—", "—"),
        ("资金需求", 1, 0, 0, "—", "—"),
        ("产业链配套", 2, 1, 0.5, 0, 0.5),
    ]

    by_department = rows(book["按责任单位"])
    assert by_department[0] == (
        "责任单位", "受理量", "已解决", "解决率", "按时办结", "按时办结率", "已回访", "满意",
        "满意率", "退单", "重办", "升级", "当前超期", "督办", "达标情况",
    )  # fmt: skip
    # "Currently overdue" is what is overdue at the report's instant, whenever submitted:
    # ticket 3 (February) and ticket 6 (March), as the dashboard shows at that moment.
    assert by_department[1:] == [
        ("市工业和信息化局", 2, 1, 0.5, 0, 0, 2, 1, 0.5, 0, 1, 1, 1, 1, "▼ 未达标"),
        ("环翠区工业和信息化局", 1, 0, 0, 0, "—", 0, 0, "—", 1, 0, 1, 1, 0, "▼ 未达标"),
        ("合计", 3, 1, pytest.approx(1 / 3), 0, 0, 2, 1, 0.5, 1, 1, 2, 2, 1, "▼ 未达标"),
    ]

    listing = rows(book["升级与超期诉求"])
    assert listing[0] == (
        "编号", "企业名称", "统一社会信用代码", "责任单位", "层级", "状态", "提交时间",
        "签收时限", "办结时限", "超期环节", "超期天数", "升级次数", "督办",
    )  # fmt: skip
    # February's tickets that were escalated (5, 3) and every ticket overdue now (3, and 6
    # submitted in March), by department.
    assert listing[1:] == [
        ("WH-2026-000005", "威海丙公司", world.e3.uscc, "市工业和信息化局", "市领导", "已关闭",
         wall(2026, 2, 28, 20, 0), None, wall(2026, 3, 4, 10, 0), None, None,
         2, "是"),
        ("WH-2026-000006", "威海丙公司", world.e3.uscc, "市工业和信息化局", "市级", "已分派",
         wall(2026, 3, 1, 0, 30), wall(2026, 3, 3, 10, 0), None, "签收", 18,
         0, None),
        ("WH-2026-000003", "威海乙公司", world.e2.uscc, "环翠区工业和信息化局", "市级", "办理中",
         wall(2026, 2, 3, 10, 0), None, wall(2026, 2, 10, 10, 0), "办结", 39,
         1, None),
    ]  # fmt: skip


def test_csv_is_the_department_table_with_a_total(world):
    snapshot = run_report(period_kind="month", now=NOW).snapshot

    content = bytes(snapshot.csv)
    assert content.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens it as UTF-8
    assert content.decode("utf-8-sig").splitlines() == [
        "责任单位,受理量,已解决,解决率,按时办结,按时办结率,已回访,满意,满意率,退单,重办,升级,当前超期,督办,达标情况",
        "市工业和信息化局,2,1,50.0%,0,0.0%,2,1,50.0%,0,1,1,1,1,未达标",
        "环翠区工业和信息化局,1,0,0.0%,0,—,0,0,—,1,0,1,1,0,未达标",
        "合计,3,1,33.3%,0,0.0%,2,1,50.0%,1,1,2,2,1,未达标",
    ]


# --- sending once ---------------------------------------------------------------------------


def test_weekly_report_run_twice_sends_one_email_and_keeps_one_snapshot(world, settings):
    settings.STAFF_ALERT_EMAILS = ["duty@weihai.example"]
    monday = "2026-03-02T08:00:00+08:00"

    first = scheduled_report("week", now=monday)
    second = scheduled_report("week", now=monday)

    assert first == second
    assert ReportSnapshot.objects.count() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "【企业诉求直通车】企业诉求办理周报（2026-02-23至2026-03-01）"
    assert message.to == ["duty@weihai.example", "leader-industry@gov.example"]
    # Week 02-23 – 03-01: tickets 5 (leader level, solved) and 6 (city level, assigned).
    headline = (
        "本期受理企业诉求2件，需市级层面解决的问题2个，其中已基本解决1个，占比50.0%（目标90%）"
    )
    assert headline in message.body
    ((name, content, mimetype),) = message.attachments
    assert name == "企业诉求办理周报（2026-02-23至2026-03-01）.xlsx"
    assert mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert load_workbook(io.BytesIO(content)).sheetnames == ["汇总", "按责任单位", "升级与超期诉求"]
    snapshot = ReportSnapshot.objects.get()
    assert snapshot.emailed_at is not None
    assert snapshot.recipients == ["duty@weihai.example", "leader-industry@gov.example"]


def test_the_task_is_registered_with_late_acks():
    assert scheduled_report.name == "reports.scheduled_report"
    assert scheduled_report.acks_late is True
    assert scheduled_report.reject_on_worker_lost is True


def test_a_stored_report_stays_as_it_was_sent(world):
    first = run_report(period_kind="month", now=NOW)
    Ticket.objects.filter(pk=world.t[4].pk).update(outcome="solved")

    second = run_report(period_kind="month", now=NOW + dt.timedelta(days=1))

    assert (first.created, second.created) == (True, False)
    assert second.snapshot.pk == first.snapshot.pk
    assert second.snapshot.headline == FEBRUARY_HEADLINE
    assert (first.sent, second.sent) == (True, False)
    assert len(mail.outbox) == 1


def test_a_failed_send_is_retried_by_the_next_run(world, monkeypatch):
    original = EmailMessage.send
    calls = []

    def flaky_send(self, *args, **kwargs):
        calls.append(self.subject)
        if len(calls) == 1:
            raise SMTPException("mail server down")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(EmailMessage, "send", flaky_send)

    with pytest.raises(SMTPException):
        run_report(period_kind="month", now=NOW)
    snapshot = ReportSnapshot.objects.get()
    assert (snapshot.email_claimed_at, snapshot.emailed_at) == (None, None)
    # Truthful: nobody received it, and the row says why.
    assert snapshot.recipients == []
    assert (snapshot.email_wanted, snapshot.email_attempts) == (True, 1)
    assert snapshot.email_error == "SMTPException: mail server down"

    retry = run_report(period_kind="month", now=NOW)

    assert retry.sent is True and retry.created is False
    assert len(mail.outbox) == 1
    assert ReportSnapshot.objects.count() == 1


def test_a_claim_in_progress_is_not_sent_twice(world):
    from django.utils import timezone

    run = run_report(period_kind="month", now=NOW, email=False)
    ReportSnapshot.objects.filter(pk=run.snapshot.pk).update(email_claimed_at=timezone.now())

    assert run_report(period_kind="month", now=NOW).sent is False
    assert mail.outbox == []
    # A claim older than the timeout belongs to a worker that died: the report goes out.
    ReportSnapshot.objects.filter(pk=run.snapshot.pk).update(
        email_claimed_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert run_report(period_kind="month", now=NOW).sent is True
    assert len(mail.outbox) == 1


def test_without_recipients_the_snapshot_is_kept_and_sent_later(world):
    world.leader.email = ""
    world.leader.save(update_fields=["email"])

    first = run_report(period_kind="month", now=NOW)
    assert (first.created, first.sent) == (True, False)
    assert mail.outbox == []

    world.leader.email = "office@gov.example"
    world.leader.save(update_fields=["email"])
    assert run_report(period_kind="month", now=NOW).sent is True
    assert mail.outbox[0].to == ["office@gov.example"]


def smtp_down_until(monkeypatch, calls: list, *, failures: int):
    original = EmailMessage.send

    def send(self, *args, **kwargs):
        calls.append(self.subject)
        if len(calls) <= failures:
            raise ConnectionRefusedError(111, "Connection refused")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(EmailMessage, "send", send)


def test_the_resend_sweep_sends_a_report_the_task_gave_up_on_exactly_once(world, monkeypatch):
    calls = []
    smtp_down_until(monkeypatch, calls, failures=3)
    with pytest.raises(ConnectionRefusedError):
        run_report(period_kind="month", now=NOW)  # the task's last retry
    assert resend_unsent() == 0  # still down: kept for the next run
    assert resend_unsent() == 0
    snapshot = ReportSnapshot.objects.get()
    assert (snapshot.emailed_at, snapshot.recipients, snapshot.email_attempts) == (None, [], 3)
    assert resend_unsent() == 1  # the mail server is back
    assert resend_unsent() == 0
    assert run_report(period_kind="month", now=NOW).sent is False
    assert len(mail.outbox) == 1
    snapshot.refresh_from_db()
    assert snapshot.recipients == ["leader-industry@gov.example"]
    assert (snapshot.email_attempts, snapshot.email_error) == (4, "")


def test_the_resend_sweep_leaves_snapshots_built_without_email_alone(world):
    run_report(period_kind="month", now=NOW, email=False)
    assert resend_unsent() == 0
    assert mail.outbox == []


def test_the_resend_sweep_takes_over_an_expired_claim_only(world, monkeypatch):
    from django.utils import timezone

    run = run_report(period_kind="month", now=NOW, email=False)
    ReportSnapshot.objects.filter(pk=run.snapshot.pk).update(
        email_wanted=True, email_claimed_at=timezone.now()
    )
    assert resend_unsent() == 0  # a worker is sending it right now
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        assert resend_unsent() == 1  # that worker died
    assert len(mail.outbox) == 1


def test_the_resend_sweep_runs_from_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["report-resend"]
    assert entry["task"] == "reports.resend_unsent_reports"
    assert entry["options"]["expires"] < entry["schedule"]


# --- the command ----------------------------------------------------------------------------


def test_command_says_it_did_not_send_when_the_mail_server_refuses(world, monkeypatch):
    smtp_down_until(monkeypatch, [], failures=1)
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("report", "--period", "month", "--now", "2026-03-20T12:00", stdout=out)
    snapshot = ReportSnapshot.objects.get()
    assert out.getvalue().splitlines()[0] == (
        "企业诉求办理月报（2026-02-01至2026-02-28）：已生成，"
        f"邮件发送失败，未发送（快照 #{snapshot.pk}）"
    )
    message = str(raised.value)
    assert message.startswith("报表邮件未发送 / the report was NOT emailed：ConnectionRefusedError")
    assert f"快照 #{snapshot.pk} 已保存" in message
    assert (snapshot.emailed_at, snapshot.recipients, snapshot.email_wanted) == (None, [], True)
    # The re-send sweep sends it once the server is back; the command then says so.
    assert resend_unsent() == 1
    out = io.StringIO()
    call_command("report", "--period", "month", "--now", "2026-03-20T12:00", stdout=out)
    assert "已存在（未重复生成），此前已发送，未重复发送" in out.getvalue()
    assert len(mail.outbox) == 1


def test_command_without_recipients_exits_non_zero(world):
    Department.objects.update(email="")
    with pytest.raises(CommandError, match="没有收件人"):
        call_command(
            "report", "--period", "month", "--now", "2026-03-20T12:00", stdout=io.StringIO()
        )
    assert ReportSnapshot.objects.get().email_wanted is True


@pytest.mark.postgres  # the command runs in another process, which needs a database server
@pytest.mark.django_db(transaction=True)
def test_command_exits_non_zero_from_the_shell_when_smtp_refuses(world):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: connections are refused
    result = subprocess.run(
        [sys.executable, "manage.py", "report", "--period", "month", "--now", "2026-03-20T12:00"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "DEBUG": "1",
            "DOTENV_FILE": "",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(port),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "邮件发送失败，未发送" in result.stdout
    assert "报表邮件未发送 / the report was NOT emailed：ConnectionRefusedError" in result.stderr


def test_command_builds_a_custom_period(world):
    out = io.StringIO()

    call_command(
        "report", "--since", "2026-01-01", "--until", "2026-04-30", "--now",
        "2026-03-20T12:00", "--no-email", stdout=out,
    )  # fmt: skip

    snapshot = ReportSnapshot.objects.get()
    assert (snapshot.period_kind, snapshot.period_start, snapshot.period_end) == (
        "custom",
        dt.date(2026, 1, 1),
        dt.date(2026, 4, 30),
    )
    assert snapshot.as_of == NOW
    assert out.getvalue().splitlines() == [
        f"企业诉求办理情况报告（2026-01-01至2026-04-30）：已生成，未发送（快照 #{snapshot.pk}）",
        "本期受理企业诉求10件，需市级层面解决的问题5个，其中已基本解决2个，占比40.0%（目标90%）",
    ]
    assert mail.outbox == []


def test_command_period_all_covers_every_ticket_up_to_now(world):
    out = io.StringIO()

    call_command("report", "--period", "all", "--now", "2026-03-20T12:00:00+08:00", stdout=out)

    snapshot = ReportSnapshot.objects.get()
    # From ticket 12's day (2025-12-31) to now's day; ticket 12 counts, 10 (withdrawn) not.
    assert (snapshot.period_start, snapshot.period_end) == (
        dt.date(2025, 12, 31),
        dt.date(2026, 3, 20),
    )
    assert snapshot.headline.startswith("本期受理企业诉求11件，")
    assert "已发送至 1 个邮箱" in out.getvalue()
    call_command("report", "--period", "all", "--now", "2026-03-20T18:00:00+08:00", stdout=out)
    assert "已存在（未重复生成），此前已发送，未重复发送" in out.getvalue()
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--now", "next tuesday"], "--now 不是有效的 ISO 8601 时间"),
        (["--period", "week", "--since", "2026-01-01", "--until", "2026-01-31"], "不能同时使用"),
        (["--since", "2026-01-01"], "需要同时给出 --since 和 --until"),
        (["--since", "2026-02-01", "--until", "2026-01-01"], "--since 不能晚于 --until"),
        (["--since", "2026-02-30", "--until", "2026-03-01"], "日期格式应为 YYYY-MM-DD"),
    ],
)
def test_command_rejects_bad_arguments(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("report", *args)


def test_period_validation():
    with pytest.raises(ValueError, match="starts"):
        Period(dt.date(2026, 2, 1), dt.date(2026, 1, 1))
    assert at(1, 1, 0, 0).tzinfo is SHANGHAI


def test_beat_schedule_runs_the_task_weekly_and_monthly(settings):
    from weihai.celery import app

    app.loader.import_default_modules()

    assert app.tasks["reports.scheduled_report"].acks_late is True
    schedule = {
        name: entry
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if entry["task"] == "reports.scheduled_report"
    }
    assert sorted(entry["args"] for entry in schedule.values()) == [("month",), ("week",)]


def test_the_task_refuses_an_unknown_period(db):
    with pytest.raises(ValueError, match="period must be 'week' or 'month'"):
        scheduled_report("day")
