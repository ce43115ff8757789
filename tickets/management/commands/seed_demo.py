"""Demo data: the city report's scenario (default) or synthetic city-scale data."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from tickets import demo, demo_scale
from tickets.calendar import SHANGHAI
from tickets.models import Status


def _instant(value):
    if value is None:
        return None
    if isinstance(value, dt.datetime):  # call_command(..., now=<datetime>)
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    instant = parse_datetime(value)
    if instant is None:
        raise CommandError(
            f"--now {value!r} 不是 ISO 8601 时间（例如 2026-11-20T10:00:00+08:00）。"
        )
    return instant if instant.tzinfo else instant.replace(tzinfo=SHANGHAI)


class Command(BaseCommand):
    help = (
        "生成演示数据。默认：城市报告场景（1,623件诉求、市级层面205个、已基本解决172个），"
        "由办理流程逐件生成，可重复运行；--enterprises N --tickets M：城市规模的合成数据"
        "（仅 PostgreSQL）。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            default=None,
            help="参考时刻（ISO 8601，默认为当前时刻）：数据截至此刻，时限据此计算。",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="先清空全部诉求、办理记录、编号计数器和企业（含企业账号）。",
        )
        parser.add_argument("--enterprises", type=int, help="规模模式：企业数")
        parser.add_argument("--tickets", type=int, help="规模模式：诉求数")
        parser.add_argument(
            "--overdue",
            type=int,
            default=None,
            help="规模模式：在参考时刻已超时限、待巡检处理的诉求数（默认为诉求数的1%%）。",
        )
        parser.add_argument(
            "--seed", type=int, default=demo.DEFAULT_SEED, help="随机种子（默认 %(default)s）。"
        )

    def handle(self, *args, **options):
        now = _instant(options["now"])
        scale = options["enterprises"] is not None or options["tickets"] is not None
        say = self._say if options["verbosity"] >= 1 else None
        try:
            if scale:
                if options["enterprises"] is None or options["tickets"] is None:
                    raise CommandError("规模模式需要同时给出 --enterprises 和 --tickets。")
                result = demo_scale.seed_scale(
                    enterprises=options["enterprises"],
                    tickets=options["tickets"],
                    now=now,
                    overdue=options["overdue"],
                    reset_first=options["reset"],
                    seed=options["seed"],
                    say=say,
                )
            else:
                if options["overdue"] is not None:
                    raise CommandError("--overdue 只用于规模模式（--enterprises/--tickets）。")
                result = demo.seed_scenario(
                    now=now, reset_first=options["reset"], seed=options["seed"], say=say
                )
        except demo.SeedError as error:
            raise CommandError(str(error)) from None
        if say is None:
            return
        if result.skipped:
            self.stdout.write(
                self.style.WARNING("城市报告场景已存在，未做任何改动（用 --reset 重新生成）。")
            )
            self.stdout.write(result.headline)
            return
        self._report(result)

    def _say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()  # progress shows in a log file or a pipe too (scripts/run)

    def _report(self, result):
        write = self.stdout.write
        write(
            f"企业 {result.enterprises:,} 家，诉求 {result.tickets:,} 件，"
            f"办理记录 {result.events:,} 条"
        )
        labels = dict(Status.choices)
        write(
            "按状态："
            + "，".join(
                f"{labels.get(status, status)} {count:,}"
                for status, count in result.statuses.most_common()
            )
        )
        write("按层级：" + "，".join(f"{k} {n:,}" for k, n in result.levels.most_common()))
        write("按清单：" + "，".join(f"{k} {n:,}" for k, n in result.kinds.most_common()))
        write(f"参考时刻已到期待巡检（escalate_at ≤ now）：{result.overdue:,} 件")
        if result.headline:
            write(result.headline)
        write(self.style.SUCCESS(f"完成，用时 {result.seconds:.1f}s"))
