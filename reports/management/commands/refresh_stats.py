"""manage.py refresh_stats — rebuild the stored monthly counts behind city-wide figures."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection

from reports import rollup


class Command(BaseCommand):
    help = (
        "重建全市月度统计汇总（reports.rollup）：全市统计从汇总读取，其后变动的月份实时计算。"
        "beat 每隔几分钟自动执行；导入大批数据后可手动执行。仅 PostgreSQL。"
    )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("非 PostgreSQL 数据库：统计始终实时计算，无需汇总。")
            return
        self.stdout.write("正在汇总全部诉求……")
        try:
            state = rollup.build()
        except OperationalError as error:
            raise CommandError(f"汇总失败（稍后重试）：{error}") from error
        if state is None:
            raise CommandError("另一个汇总正在进行，本次跳过。")
        self.stdout.write(
            self.style.SUCCESS(
                f"统计汇总已更新：{state.rows:,} 行，{len(state.months)} 个月，"
                f"用时 {state.build_seconds:.1f}s。"
            )
        )
