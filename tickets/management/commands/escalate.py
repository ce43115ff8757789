from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tickets.escalation import escalate_overdue
from tickets.models import TicketEvent


def parse_instant(value: str | None):
    if not value:
        return None
    instant = parse_datetime(value)
    if instant is None:
        raise CommandError(
            f"--now {value!r} 不是 ISO 8601 时间（例如 2026-10-13T09:00:00+08:00）。"
        )
    if timezone.is_naive(instant):
        instant = timezone.make_aware(instant)  # Asia/Shanghai
    return instant


class Command(BaseCommand):
    help = "运行一次升级巡检（预警、催办、升级、督办、自动关闭）。Run one escalation sweep."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="以该时刻运行（ISO 8601，默认当前时间）")
        parser.add_argument(
            "--no-notify", action="store_true", help="不发送汇总通知邮件 / send no digest"
        )

    def handle(self, *args, **options):
        now = parse_instant(options["now"]) or timezone.now()
        self.stdout.write(f"升级巡检 / escalation sweep at {timezone.localtime(now).isoformat()}")
        result = escalate_overdue(now=now, notify=not options["no_notify"])
        labels = dict(TicketEvent.Action.choices)
        for action, count in sorted(result.counts.items()):
            self.stdout.write(f"  {labels.get(action, action)} ({action}): {count}")
        if result.skipped:
            self.stdout.write(
                self.style.WARNING(f"  跳过 / skipped (retry later): {result.skipped}")
            )
        self.stdout.write(
            self.style.SUCCESS(f"完成 / done: {result.total} 步，用时 {result.seconds:.2f}s")
        )
