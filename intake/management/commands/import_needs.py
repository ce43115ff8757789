"""manage.py import_needs FILE [--work-group …] [--dry-run] [--user USERNAME] [--now ISO]

The admin's import from the command line: preview (the counts and every flagged row), then,
unless --dry-run, confirm with each row's default decision (new rows are imported, rows
duplicating an open ticket are skipped, a row repeating an earlier row of the file is merged
into that row's ticket)."""

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from intake import services
from intake.models import ImportRow
from tickets.errors import WorkflowError
from tickets.management.commands.escalate import parse_instant


def _bar(total: int, description: str):
    from tqdm import tqdm

    return tqdm(
        total=total, desc=description, unit="行", file=sys.stderr, disable=None, mininterval=0.5
    )


class Command(BaseCommand):
    help = "导入工作组诉求清单（XLSX）。Import a work group's list of needs from an XLSX file."

    def add_arguments(self, parser):
        parser.add_argument("file", help="由导入模板填写的 .xlsx 文件")
        parser.add_argument("--work-group", default="", help="“工作组”列留空的行记为此工作组")
        parser.add_argument(
            "--dry-run", action="store_true", help="只预览，不创建诉求 / preview only"
        )
        parser.add_argument("--user", help="以该工作人员的名义导入（默认：系统）")
        parser.add_argument("--now", help="以该时刻导入（ISO 8601，默认当前时间）")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"无法读取文件 {path}：{error.strerror}") from None
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"用户 {options['user']} 不存在。")
        now = parse_instant(options["now"])
        try:
            if options["dry_run"]:
                # The preview is stored only to be thrown away: nothing of it stays.
                with transaction.atomic():
                    batch = self._preview(content, path, user, options["work_group"], now)
                    self._report(batch)
                    transaction.set_rollback(True)
                self.stdout.write("（预览，未创建诉求 / dry run, nothing created）")
                return
            batch = self._preview(content, path, user, options["work_group"], now)
            self._report(batch)
            with _bar(batch.total_rows, "导入 / confirm") as bar:
                batch = services.confirm(
                    batch, user=user, now=now, progress=lambda n: bar.update(n - bar.n)
                )
        except WorkflowError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            f"批次 #{batch.pk}：新建 {batch.created_count}，并入 {batch.merged_count}，"
            f"跳过 {batch.skipped_count}，新登记企业 {batch.enterprises_created}"
        )

    def _preview(self, content, path, user, work_group, now):
        with _bar(None, "检查 / preview") as bar:
            return services.preview(
                content,
                file_name=path.name,
                user=user,
                work_group=work_group,
                now=now,
                progress=lambda n: bar.update(n - bar.n),
            )

    def _report(self, batch):
        self.stdout.write(
            f"批次 #{batch.pk} {batch.file_name}：共 {batch.total_rows} 行，新诉求 "
            f"{batch.new_rows}，疑似重复 {batch.duplicate_rows}，有错误 {batch.error_rows}"
        )
        flagged = batch.rows.exclude(status=ImportRow.Status.NEW).select_related("duplicate_of")
        for row in flagged.order_by("row_number").iterator():
            if row.status == ImportRow.Status.ERROR:
                reasons = "；".join(f"{e['column']}：{e['message']}" for e in row.errors)
                self.stdout.write(f"  第 {row.row_number} 行 有错误：{reasons}")
            elif row.duplicate_of_id:
                self.stdout.write(
                    f"  第 {row.row_number} 行 疑似重复于 {row.duplicate_of.number}"
                    f"（相似度 {row.similarity:.2f}，{row.get_decision_display()}）"
                )
            else:
                self.stdout.write(
                    f"  第 {row.row_number} 行 与第 {row.duplicate_of_row} 行重复"
                    f"（相似度 {row.similarity:.2f}，{row.get_decision_display()}）"
                )
