"""Demo data: the city report's scenario (default) or synthetic city-scale data."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from tickets import demo
from tickets.calendar import SHANGHAI


def _instant(value):
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
        "可重复运行；--enterprises N --tickets M：城市规模的合成数据（PostgreSQL 上用 COPY）。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            default=demo.DEFAULT_NOW.isoformat(),
            help="参考时刻（ISO 8601，默认 %(default)s）：数据截至此刻，时限据此计算。",
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
            "--batch",
            type=int,
            default=20_000,
            help="规模模式：每批写入的诉求数（默认 %(default)s）。",
        )
        parser.add_argument(
            "--history",
            choices=sorted(demo.HISTORIES),
            default="essential",
            help="规模模式写入哪些办理记录：full 全部（约6.4条/件），essential 仅提交与单位间流转"
            "（分派、退单、改派、升级，约2.1条/件；默认）。场景模式总是写全部。",
        )
        parser.add_argument(
            "--seed", type=int, default=demo.DEFAULT_SEED, help="随机种子（默认 %(default)s）。"
        )

    def handle(self, *args, **options):
        now = _instant(options["now"])
        scale = options["enterprises"] is not None or options["tickets"] is not None
        progress = options["verbosity"] >= 1
        try:
            if scale:
                if options["enterprises"] is None or options["tickets"] is None:
                    raise CommandError("规模模式需要同时给出 --enterprises 和 --tickets。")
                result = demo.seed_scale(
                    enterprises=options["enterprises"],
                    tickets=options["tickets"],
                    now=now,
                    overdue=options["overdue"],
                    reset_first=options["reset"],
                    seed=options["seed"],
                    batch=options["batch"],
                    history=options["history"],
                    stdout=self.stdout if progress else None,
                    progress=progress,
                )
            else:
                if options["overdue"] is not None:
                    raise CommandError("--overdue 只用于规模模式（--enterprises/--tickets）。")
                result = demo.seed_scenario(
                    now=now,
                    reset_first=options["reset"],
                    seed=options["seed"],
                    stdout=self.stdout if progress else None,
                    progress=progress,
                )
        except demo.SeedError as error:
            raise CommandError(str(error)) from None
        if options["verbosity"] < 1:
            return
        if result.skipped:
            self.stdout.write(
                self.style.WARNING("城市报告场景已存在，未做任何改动（用 --reset 重新生成）。")
            )
            self.stdout.write(result.headline)
            return
        self._report(result)

    def _report(self, result):
        write = self.stdout.write
        write("")
        write(
            f"企业 {result.enterprises:,} 家，诉求 {result.tickets:,} 件，"
            f"办理记录 {result.events:,} 条"
        )
        if result.tickets:
            write(f"平均每件诉求 {result.events / result.tickets:.2f} 条办理记录")
        labels = dict(demo.Status.choices)
        write(
            "按状态："
            + "，".join(
                f"{labels.get(status, status)} {count:,}"
                for status, count in result.statuses.most_common()
            )
        )
        write(
            "按层级："
            + "，".join(f"{level} {count:,}" for level, count in result.levels.most_common())
        )
        write(
            "按清单："
            + "，".join(f"{kind} {count:,}" for kind, count in result.kinds.most_common())
        )
        write(f"参考时刻已到期待巡检（escalate_at ≤ now）：{result.overdue:,} 件")
        if result.headline:
            write(result.headline)
        write(self.style.SUCCESS(f"完成，用时 {result.seconds:.1f}s"))
