"""manage.py report [--period week|month|all] [--now ISO-DATETIME] [--since D --until D]"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from reports.periods import Period, parse_instant
from reports.reporting import PERIOD_KINDS, run_report, send_snapshot


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{value}") from None


class Command(BaseCommand):
    help = (
        "生成并发送报表（幂等：同一期间只生成一次、只发送一次）。"
        "--period week|month 为 --now 之前最近一个完整的自然周（周一至周日）或自然月；"
        "--period all 为截至 --now 当日的全部诉求；--since/--until 为自定义期间（含首尾两日）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--period", choices=PERIOD_KINDS, help="week（默认）、month 或 all")
        parser.add_argument(
            "--now", help="统计时点，ISO 8601；不带时区按北京时间（默认：当前时间）"
        )
        parser.add_argument("--since", help="自定义期间起始日期 YYYY-MM-DD")
        parser.add_argument("--until", help="自定义期间截止日期 YYYY-MM-DD（含当日）")
        parser.add_argument("--no-email", action="store_true", help="只生成快照，不发送邮件")

    def handle(self, *args, **options):
        try:
            now = parse_instant(options["now"])
        except ValueError:
            raise CommandError(f"--now 不是有效的 ISO 8601 时间：{options['now']}") from None
        period = None
        if options["since"] or options["until"]:
            if options["period"]:
                raise CommandError("--period 与 --since/--until 不能同时使用。")
            if not (options["since"] and options["until"]):
                raise CommandError("自定义期间需要同时给出 --since 和 --until。")
            try:
                period = Period(_date(options["since"]), _date(options["until"]))
            except ValueError:
                raise CommandError("--since 不能晚于 --until。") from None
        run = run_report(
            period_kind=options["period"] or "week", now=now, period=period, email=False
        )
        snapshot = run.snapshot
        state = "已生成" if run.created else "已存在（未重复生成）"
        failure = None
        if options["no_email"]:
            mail = "未发送"
        elif snapshot.emailed_at:
            mail = "此前已发送，未重复发送"
        else:
            try:
                sent = send_snapshot(snapshot)
            except Exception as error:  # the mail server refused or is unreachable
                sent, failure = False, f"{type(error).__name__}: {error}"
            snapshot.refresh_from_db(fields=["emailed_at", "email_claimed_at", "recipients"])
            if sent:
                mail = f"已发送至 {len(snapshot.recipients)} 个邮箱"
            elif failure:
                mail = "邮件发送失败，未发送"
            elif snapshot.emailed_at:
                mail = "此前已发送，未重复发送"
            elif snapshot.email_claimed_at:
                mail = "正在由另一进程发送，未重复发送"
            else:
                mail = "未发送：没有收件人"
                failure = "没有收件人（市领导层级单位的邮箱、STAFF_ALERT_EMAILS 均为空）"
        self.stdout.write(f"{snapshot.title}：{state}，{mail}（快照 #{snapshot.pk}）")
        self.stdout.write(snapshot.headline)
        if failure:
            raise CommandError(
                f"报表邮件未发送 / the report was NOT emailed：{failure}。"
                f"快照 #{snapshot.pk} 已保存；系统每隔几分钟自动重发，直到发出"
                "（reports.resend_unsent_reports）。"
            )
